#include "bandit/exploration.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "bandit/candidate_mixtures.h"
#include "engine/error.h"

namespace birdie::bandit {

double exploration_probability(std::int64_t step, std::int64_t total_steps,
                               const ExplorationSchedule& s) {
  BIRDIE_CHECK(total_steps > 0, "exploration_probability: total_steps must be positive");
  const double p = double(step) / double(total_steps);
  if (p < s.full_until) return s.full_value;
  if (p < s.half_until) return s.half_value;
  if (p < s.decay_until && s.decay_until > s.half_until) {
    const double x = (p - s.half_until) / (s.decay_until - s.half_until);
    return s.floor_value + (s.half_value - s.floor_value) * 0.5 * (1.0 + std::cos(std::numbers::pi * x));
  }
  return s.floor_value;
}

std::vector<double> exploration_mixture(const std::vector<std::vector<std::size_t>>& classes,
                                        std::size_t configurations, double other_class_mass,
                                        RandomGenerator& rng, std::vector<std::size_t>* picked_out) {
  std::vector<std::size_t> present;
  for (std::size_t c = 0; c < classes.size(); ++c)
    if (!classes[c].empty()) present.push_back(c);
  BIRDIE_CHECK(!present.empty(), "exploration_mixture: no class has a configuration");
  const std::size_t count = present.size() == 1 ? 1 : 1 + rng.uniform_int(2);
  std::vector<std::size_t> picked;
  for (std::size_t k = 0; k < count; ++k) {  // partial Fisher-Yates over the present classes
    const std::size_t j = k + rng.uniform_int(present.size() - k);
    std::swap(present[k], present[j]);
    picked.push_back(present[k]);
  }
  const std::size_t others = present.size() - count;
  const double other_mass = std::clamp(other_class_mass, 0.0, 0.5 / std::max<std::size_t>(1, others));
  std::vector<double> weights(configurations, 0.0);
  for (std::size_t k = count; k < present.size(); ++k)
    for (std::size_t i : classes[present[k]])
      weights.at(i) = other_mass / double(classes[present[k]].size());
  const double picked_mass = 1.0 - other_mass * double(others);
  const std::vector<double> shares = draw_simplex_point(count, rng);
  for (std::size_t k = 0; k < count; ++k) {
    const auto& members = classes[picked[k]];
    const std::vector<double> inner = draw_simplex_point(members.size(), rng);
    for (std::size_t j = 0; j < members.size(); ++j)
      weights.at(members[j]) = picked_mass * shares[k] * inner[j];
  }
  double total = 0;
  for (double w : weights) total += w;
  for (double& w : weights) w /= total;
  if (picked_out) *picked_out = picked;
  return weights;
}

}  // namespace birdie::bandit
