#pragma once
#include "engine/tensor.h"
#include "kernels/scan.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/rglru.h); proj f32 or f64 with lambda of the same dtype.
// The CPU keeps every state h [B, T, C] as the saved tensor.
Tensor rglru_scan_forward(const Tensor& proj, const Tensor& lambda, const Tensor& reset,
                          ScanDirection direction, Tensor& y);
void rglru_scan_backward(const Tensor& proj, const Tensor& lambda, const Tensor& reset,
                         ScanDirection direction, const Tensor& saved, const Tensor& dy,
                         Tensor& dproj, Tensor& dlambda);
}  // namespace birdie::kernels::cpu
