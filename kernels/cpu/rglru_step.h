#pragma once
#include "kernels/rglru_step.h"
namespace birdie::kernels::cpu {
// Validated operands, f32 or f64 (see kernels/rglru_step.h).
void rglru_final_state(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                       ScanDirection direction, Tensor& state);
void rglru_step(const Tensor& x, const Tensor& gates, const Tensor& lambda, Tensor& state, ScanDirection direction,
                Tensor& y);
void conv1d_step(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& window,
                 ScanDirection direction, Tensor& y);
}  // namespace birdie::kernels::cpu
