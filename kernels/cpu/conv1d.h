#pragma once
#include "engine/tensor.h"
#include "kernels/scan.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/conv1d.h); f32 or f64, all of one dtype.
void causal_conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Tensor& reset, ScanDirection direction, Tensor& y);
void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& reset,
                            ScanDirection direction, const Tensor& dy, Tensor& dx,
                            Tensor& dweight, Tensor& dbias);
}  // namespace birdie::kernels::cpu
