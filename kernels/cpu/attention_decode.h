#pragma once
#include <cstdint>

#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/attention_decode.h); f32 or f64.
void attention_decode(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out);
void rotary_at_position(const Tensor& x, std::int64_t position, double base, Tensor& y);
}  // namespace birdie::kernels::cpu
