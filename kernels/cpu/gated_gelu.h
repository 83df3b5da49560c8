// The CPU reference of kernels/gated_gelu.h on validated f32 or f64 operands. The operands
// are rows of width M read with a row stride: a at a_offset and b at b_offset of `in`
// (two tensors: one each, stride M; one tensor's halves: offsets 0 and M, stride 2M), the
// gradients written likewise into da_out and db_out.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace birdie::kernels::cpu {

struct GatedRows {
  std::int64_t rows, width, stride;  // width M; stride between rows of a (and of b)
};

void gated_gelu_forward(const Tensor& a, const Tensor& b, std::int64_t b_offset, GatedRows shape,
                        Tensor& out);
void gated_gelu_backward(const Tensor& a, const Tensor& b, std::int64_t b_offset, GatedRows shape,
                         const Tensor& dy, Tensor& da, Tensor& db, std::int64_t db_offset);

}  // namespace birdie::kernels::cpu
