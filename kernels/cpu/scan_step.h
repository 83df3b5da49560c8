#pragma once
#include "kernels/scan_step.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/scan_step.h).
void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state);
void gated_scan_step(const Tensor& proj, Tensor& state, ScanDirection direction, Tensor& y);
}  // namespace birdie::kernels::cpu
