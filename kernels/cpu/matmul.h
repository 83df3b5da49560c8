#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/matmul.h); f32 via OpenBLAS, f64 via loops.
void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha, double beta);
}  // namespace birdie::kernels::cpu
