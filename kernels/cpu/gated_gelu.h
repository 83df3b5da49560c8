// The CPU reference of kernels/gated_gelu.h on validated f32 or f64 operands: rows of
// width M read with a row stride, a from the start of `a` and b from b_offset elements into
// `b` (two tensors: b_offset 0, stride M; one tensor's halves: the same tensor twice,
// b_offset M, stride 2M); da and db (from db_offset) written with the same stride, out and
// dy dense [rows, M].
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
