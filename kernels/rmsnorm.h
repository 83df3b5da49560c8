// RMSNorm over the last dimension: y = x / sqrt(mean(x²) + eps) ⊙ weight.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// x [..., D], weight [D]; writes y like x and inv_rms [rows] (1 / sqrt(mean(x²) + eps),
// saved for the backward pass).
void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms);
// Writes dx (overwritten) and adds into dweight (accumulated, so several uses of one
// norm weight, or micro-batches, sum up).
void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight);

}  // namespace birdie::kernels
