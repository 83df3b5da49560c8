#include "bandit/mixture_policy.h"

#include <cmath>

#include "bandit/evaluation_schedule.h"
#include "bandit/fixed_mixture_policy.h"
#include "bandit/reward_driven_policy.h"

namespace birdie::bandit {

void check_mixture(const std::vector<double>& weights, std::size_t n, const std::string& what,
                   double tolerance) {
  BIRDIE_CHECK(weights.size() == n, what, ": ", weights.size(), " weights for ", n, " configurations");
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    BIRDIE_CHECK(std::isfinite(weights[i]) && weights[i] >= 0, what, ": weight ", i, " is ",
                 weights[i], "; weights must be finite and non-negative");
    total += weights[i];
  }
  BIRDIE_CHECK(std::abs(total - 1.0) <= tolerance, what, ": weights sum to ", total,
               ", not 1. Fix: normalize them (a weights file is normalized when loaded)");
}

std::unique_ptr<MixturePolicy> make_mixture_policy(const MixturePolicyConfig& config,
                                                   const objectives::ObjectiveGrid& grid,
                                                   std::int64_t total_steps, std::uint64_t seed) {
  BIRDIE_CHECK(total_steps >= 1, "mixture policy: total_steps must be ≥ 1, got ", total_steps);
  BIRDIE_CHECK(!grid.configs.empty(), "mixture policy '", config.kind, "': the objective grid ",
               grid.source.empty() ? std::string("(built in code)") : grid.source,
               " has no configurations. Fix: list at least one entry under objectives = [...]");
  std::vector<std::int64_t> steps =
      config.evaluation_steps.empty() ? evaluation_schedule(total_steps) : config.evaluation_steps;
  for (std::size_t i = 0; i < steps.size(); ++i)
    BIRDIE_CHECK(steps[i] >= 1 && steps[i] <= total_steps && (i == 0 || steps[i] > steps[i - 1]),
                 "mixture policy: evaluation steps must increase strictly within [1, ", total_steps,
                 "]; entry ", i, " is ", steps[i]);
  if (config.kind == "birdie") return std::make_unique<RewardDrivenPolicy>(config, grid, total_steps, seed);
  BIRDIE_CHECK(config.class_floor == 0, "mixture policy '", config.kind, "': objectives.class_floor = ",
               config.class_floor, " applies to the reward-driven mixture only. Fix: set it to 0, or use "
               "objectives.mixture = \"birdie\"");
  objectives::Mixture mixture;
  if (config.kind == "ntp") {
    mixture = objectives::next_token_mixture();
  } else if (config.kind == "ul2") {
    mixture = objectives::ul2_mixture();
  } else if (config.kind == "uniform") {
    mixture = objectives::uniform_mixture(grid);
  } else if (config.kind == "fixed") {
    BIRDIE_CHECK(config.weights.empty() != config.weights_file.empty(),
                 "mixture policy 'fixed': give exactly one of weights (", config.weights.size(),
                 " given) and weights_file ('", config.weights_file, "')");
    if (!config.weights_file.empty()) {
      mixture = objectives::load_mixture_weights(config.weights_file, grid);
    } else {
      check_mixture(config.weights, grid.configs.size(), "mixture policy 'fixed' weights");
      mixture = objectives::Mixture{"fixed", grid.configs, config.weights};
    }
  } else {
    throw Error("mixture policy: unknown kind '" + config.kind +
                "'. Fix: use birdie, ntp, ul2, uniform or fixed");
  }
  return std::make_unique<FixedMixturePolicy>(config.kind, std::move(mixture), std::move(steps), total_steps);
}

objectives::Mixture current_objective_mixture(const MixturePolicy& policy) {
  return objectives::make_mixture("policy", policy.configurations(), policy.current_mixture());
}

}  // namespace birdie::bandit
