#pragma once
#include "engine/tensor.h"
#include "kernels/scan.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/rglru.h); x and gates f32 or f64 with lambda of the same
// dtype. The CPU keeps every state h [B, T, C] as the saved tensor.
Tensor rglru_scan_forward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                          ScanDirection direction, Tensor& y);
void rglru_scan_backward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                         ScanDirection direction, const Tensor& saved, const Tensor& dy, Tensor& dx, Tensor& dgates,
                         Tensor& dlambda);
}  // namespace birdie::kernels::cpu
