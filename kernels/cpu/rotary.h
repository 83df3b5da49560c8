#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/rotary.h); f32 or f64. `sign` +1 rotates by θ (the
// forward pass), −1 by −θ (the backward pass). y may be x.
void rotary(const Tensor& x, const Tensor& reset, double base, int sign, Tensor& y);
}  // namespace birdie::kernels::cpu
