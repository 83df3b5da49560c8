#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/rmsnorm.h).
void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms);
void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight, bool accumulate_dx);
}  // namespace birdie::kernels::cpu
