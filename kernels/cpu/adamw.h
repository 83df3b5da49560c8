#pragma once
#include <vector>
#include "kernels/adamw.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/adamw.h); the step's values as adamw_status::decide
// leaves them: grad_scale and the bias corrections 1 − β1^step, 1 − β2^step.
void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& hyper, double grad_scale,
                double correction1, double correction2);
}  // namespace birdie::kernels::cpu
