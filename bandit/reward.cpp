#include "bandit/reward.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace birdie::bandit {

double interval_reward(double loss_old, double loss_new) {
  constexpr double e = std::numbers::e;
  const double delta = (loss_old - loss_new) / (loss_old + 1e-8);
  const double s = std::sqrt(loss_old * loss_new);
  const double r = std::clamp(100.0 * e * std::tanh(e * s * delta * delta * delta), -1.0, 1.0);
  // std::clamp passes NaN through; a NaN (or a loss pair that made one) is no signal.
  return std::isnan(r) ? 0.0 : r;
}

std::vector<double> interval_rewards(const std::vector<double>& losses_old,
                                     const std::vector<double>& losses_new) {
  BIRDIE_CHECK(losses_old.size() == losses_new.size(), "interval_rewards: ", losses_old.size(),
               " old losses but ", losses_new.size(), " new ones");
  std::vector<double> rewards(losses_old.size());
  for (std::size_t i = 0; i < rewards.size(); ++i)
    rewards[i] = interval_reward(losses_old[i], losses_new[i]);
  return rewards;
}

}  // namespace birdie::bandit
