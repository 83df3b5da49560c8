#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/cross_entropy.h); targets are range-checked here.
void cross_entropy_forward_backward(const Tensor& logits, const Tensor& targets, double grad_scale,
                                    Tensor& row_loss, Tensor* dlogits);
}  // namespace birdie::kernels::cpu
