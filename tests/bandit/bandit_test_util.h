// Helpers of the bandit suite: small grids built in code, a fast policy configuration and
// a synthetic training run whose true reward is known, with a driver that runs a policy on it.
#pragma once

#include <cmath>
#include <functional>
#include <vector>

#include "bandit/mixture_policy.h"
#include "objectives/objective_grid.h"

namespace birdie::testing {

// 4 classes, 7 configurations: next_token (0), prefix_lm (1), infilling (2, 3, 4), copying (5, 6).
inline objectives::ObjectiveGrid small_grid() {
  return objectives::parse_objective_grid(R"(
objectives = [
  { class = "next_token" },
  { class = "prefix_lm" },
  { class = "infilling", corruption_rate = 0.15, mean_span = 3, max_len = 512 },
  { class = "infilling", corruption_rate = 0.5, mean_span = 3, max_len = 512 },
  { class = "infilling", corruption_rate = 0.15, mean_span = 8, max_len = 512 },
  { class = "copying", min_len = 64, max_len = 128 },
  { class = "copying", min_len = 128, max_len = 256 },
]
)", "bandit test grid");
}

// The reward-driven policy made cheap for tests that are not about the critic's size or the
// candidate count: critic width 64, state 128, 2 blocks; 512 + 512 candidates. Retraining
// keeps the §4 recipe (200 iterations, triangle 5e-7 → 5e-4 → 5e-7, AdamW).
inline bandit::MixturePolicyConfig fast_birdie_config() {
  bandit::MixturePolicyConfig c;
  c.kind = "birdie";
  c.critic_width = 64;
  c.critic_state = 128;
  c.critic_layers = 2;
  c.uniform_candidates = 512;
  c.sharpened_candidates = 512;
  return c;
}

// fast_birdie_config() for a 1000-step run evaluated every 100 steps, uniform until step
// 150, then exploring on `exploration`'s schedule.
inline bandit::MixturePolicyConfig ten_evaluations_config(const bandit::ExplorationSchedule& exploration) {
  bandit::MixturePolicyConfig c = fast_birdie_config();
  for (std::int64_t s = 100; s <= 1000; s += 100) c.evaluation_steps.push_back(s);
  c.uniform_fraction = 0.15;
  c.exploration = exploration;
  return c;
}

inline double class_mass(const std::vector<double>& mixture, const objectives::ObjectiveGrid& grid,
                         objectives::ObjectiveClass c) {
  double mass = 0;
  for (std::size_t i = 0; i < mixture.size(); ++i)
    if (grid.configs[i].objective_class() == c) mass += mixture[i];
  return mass;
}

// A synthetic training run: every configuration's loss falls by a fraction
// 0.005 + 0.08 · (mass of the favoured class in the mixture used) per interval, so the true
// reward of every configuration grows with the favoured class's mass.
struct SyntheticRun {
  objectives::ObjectiveGrid grid;
  std::vector<double> losses;
  explicit SyntheticRun(objectives::ObjectiveGrid g) : grid(std::move(g)), losses(grid.configs.size()) {
    for (std::size_t i = 0; i < losses.size(); ++i) losses[i] = 5.0 + 0.1 * double(i);
  }
  void train_interval(const std::vector<double>& mixture, objectives::ObjectiveClass favoured) {
    const double drop = 0.005 + 0.08 * class_mass(mixture, grid, favoured);
    for (double& l : losses) l *= 1.0 - drop;
  }
};

// Runs `policy` through its evaluation steps on the synthetic problem; `favoured(step)`
// says which class speeds up every loss in the interval ending at `step`.
inline std::vector<bandit::EvaluationRecord> run_synthetic(
    bandit::MixturePolicy& policy, SyntheticRun& run,
    const std::function<objectives::ObjectiveClass(std::int64_t)>& favoured, std::size_t first = 0,
    std::size_t count = ~std::size_t(0)) {
  std::vector<bandit::EvaluationRecord> records;
  const auto& steps = policy.evaluation_steps();
  for (std::size_t e = first; e < steps.size() && records.size() < count; ++e) {
    if (e > 0) run.train_interval(policy.current_mixture(), favoured(steps[e]));
    records.push_back(policy.observe(steps[e], run.losses));
  }
  return records;
}

// interval, 2·interval, … up to total: evaluation steps.
inline std::vector<std::int64_t> every(std::int64_t interval, std::int64_t total) {
  std::vector<std::int64_t> steps;
  for (std::int64_t s = interval; s <= total; s += interval) steps.push_back(s);
  return steps;
}

}  // namespace birdie::testing
