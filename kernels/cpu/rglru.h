#pragma once
#include "engine/tensor.h"
#include "kernels/scan.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/rglru.h); x and gates f32 or f64 with lambda of the same
// dtype. The CPU keeps every state h [B, T, C] as the saved tensor.
// out_gate and dout_gate: undefined without Hawk's output gate (kernels/rglru.h).
Tensor rglru_scan_forward(const Tensor& x, const Tensor& gates, const Tensor& out_gate, const Tensor& lambda,
                          const Tensor& reset, ScanDirection direction, Tensor& y);
void rglru_scan_backward(const Tensor& x, const Tensor& gates, const Tensor& out_gate, const Tensor& lambda,
                         const Tensor& reset, ScanDirection direction, const Tensor& saved, const Tensor& dy, Tensor& dx,
                         Tensor& dgates, Tensor& dout_gate, Tensor& dlambda);
}  // namespace birdie::kernels::cpu
