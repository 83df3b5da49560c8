// The reward of one interval between two evaluations (docs/method.md §4), per configuration:
//     ΔL = (L_old - L_new) / (L_old + 1e-8)
//     S  = sqrt(L_old · L_new)
//     R  = clip(100·e · tanh(e · S · ΔL³), -1, +1)        e = 2.71828…, NaN → 0
// A loss decrease is a positive reward. Checks: 4.5→4.2 0.952; 3.0→2.9 0.081;
// 3.0→2.8 0.635; 1.0→0.9 0.701; 3.0→3.1 -0.084.
#pragma once

#include <vector>

namespace birdie::bandit {

double interval_reward(double loss_old, double loss_new);

// Element-wise over two loss vectors of the same length (throws otherwise).
std::vector<double> interval_rewards(const std::vector<double>& losses_old,
                                     const std::vector<double>& losses_new);

}  // namespace birdie::bandit
