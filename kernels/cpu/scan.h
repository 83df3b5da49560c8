#pragma once
#include "engine/tensor.h"
#include "kernels/scan.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/scan.h). The CPU keeps every state h [B, T, N] as the
// saved tensor.
Tensor gated_scan_forward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                          Tensor& y);
void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj);
}  // namespace birdie::kernels::cpu
