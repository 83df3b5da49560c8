#pragma once
#include <vector>
#include "kernels/adamw.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/adamw.h).
void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& hyper);
}  // namespace birdie::kernels::cpu
