// RMSNorm over the last dimension: y = x / sqrt(mean(x²) + eps) ⊙ weight.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// x [..., D], weight [D]; writes y like x and inv_rms [rows] (1 / sqrt(mean(x²) + eps),
// saved for the backward pass). inv_rms has x's dtype, or f32 with bf16 x (the statistics
// stay in fp32). x: f32 or bf16 on both devices (the CPU emulates bf16: f32 math on the
// widened values, outputs rounded once), f64 on the CPU.
void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms);
// Writes dx (overwritten, or added into when accumulate_dx: the gradient that already
// arrived along a residual connection, summed in f32 and rounded once) and adds into
// dweight (accumulated, so several uses of one norm weight, or micro-batches, sum up).
// dweight has x's dtype, or f32 with bf16 x.
void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight, bool accumulate_dx = false);

// The pre-norm residual step fused: residual_out = x + residual (rounded to x's dtype),
// then y = RMSNorm(residual_out) with inv_rms as above. One pass on the GPU. Its backward
// is rmsnorm_backward on residual_out, plus the gradient arriving along the residual.
void rmsnorm_residual_forward(const Tensor& x, const Tensor& residual, const Tensor& weight,
                              double eps, Tensor& residual_out, Tensor& y, Tensor& inv_rms);

}  // namespace birdie::kernels
