// Exploration (docs/method.md §4). With probability ε(step) the next mixture is an exploration
// action instead of the critic's choice. ε as a function of the run's progress
// p = step / total_steps (defaults):
//     p < full_until (0.05)          : full_value (1.0)
//     p < half_until (0.10)          : half_value (0.5)
//     p < decay_until (0.50)         : cosine from half_value down to floor_value (0.2)
//     otherwise                      : floor_value (0.2)
// Tests shorten or disable exploration by setting these fields (e.g. all values 0).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"

namespace birdie::bandit {

struct ExplorationSchedule {
  double full_until = 0.05;
  double half_until = 0.10;
  double decay_until = 0.50;
  double full_value = 1.0;
  double half_value = 0.5;
  double floor_value = 0.2;
  double other_class_mass = 0.005;  // total mass of each class not picked
};

double exploration_probability(std::int64_t step, std::int64_t total_steps,
                               const ExplorationSchedule& schedule);

// An exploration action: 1 or 2 of the classes present (equally likely; 1 when only one is
// present) picked at random; each picked class gets a random share of the picked mass
// (Dirichlet(1) over the picked classes), spread over its configurations with random
// weights (Dirichlet(1)); every other class present gets other_class_mass in total, spread
// uniformly over its configurations. `classes`: configuration indices per class.
// `picked` receives the picked class indices.
std::vector<double> exploration_mixture(const std::vector<std::vector<std::size_t>>& classes,
                                        std::size_t configurations, double other_class_mass,
                                        RandomGenerator& rng, std::vector<std::size_t>* picked = nullptr);

}  // namespace birdie::bandit
