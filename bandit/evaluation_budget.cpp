#include "bandit/evaluation_budget.h"

#include <algorithm>

#include "bandit/evaluation_schedule.h"
#include "bandit/mixture_policy.h"
#include "bandit/reward_critic.h"
#include "engine/error.h"

namespace birdie::bandit {

namespace {
// An AdamW update reads and writes four values per weight: counted as this many operations,
// about its cost beside a multiply-add on a CPU.
constexpr double adamw_flops_per_weight = 12;
}  // namespace

double evaluation_share(std::int64_t total_steps, std::int64_t evaluations, const EvaluationCosts& costs) {
  const double n = double(evaluations);
  const double flops = n * (costs.validation_flops + costs.policy_flops) +
                       costs.policy_flops_per_history_row * n * (n - 1) / 2;
  return flops / (double(total_steps) * costs.training_step_flops);
}

EvaluationPlan plan_evaluations(std::int64_t total_steps, double budget, const EvaluationCosts& costs) {
  BIRDIE_CHECK(budget >= 0 && budget <= 1, "objectives.evaluation_budget must be in [0, 1] (a share of the "
               "training's compute; 0: no limit), got ", budget);
  BIRDIE_CHECK(costs.training_step_flops > 0, "plan_evaluations: a training step must cost something");
  EvaluationPlan plan;
  const std::vector<std::int64_t> schedule = evaluation_schedule(total_steps);
  plan.schedule_evaluations = std::int64_t(schedule.size());
  std::int64_t n = plan.schedule_evaluations;
  if (budget > 0) {
    const std::int64_t floor = std::min(n, minimum_planned_evaluations);
    while (n > floor && evaluation_share(total_steps, n, costs) > budget) --n;
    plan.over_budget = evaluation_share(total_steps, n, costs) > budget;
  }
  plan.steps = evaluation_schedule(total_steps, n);
  plan.estimated_share = evaluation_share(total_steps, std::int64_t(plan.steps.size()), costs);
  return plan;
}

void add_policy_costs(const MixturePolicyConfig& config, std::int64_t configurations, EvaluationCosts& costs) {
  costs.policy_flops = costs.policy_flops_per_history_row = 0;
  if (config.kind != "birdie") return;
  const double weights = double(critic_parameter_count(
      {configurations, config.critic_width, config.critic_state, config.critic_layers}));
  const double iterations = config.training.iterations;
  const double candidates = double(config.uniform_candidates + config.sharpened_candidates);
  costs.policy_flops = iterations * adamw_flops_per_weight * weights + candidates * 2 * weights;
  costs.policy_flops_per_history_row = iterations * 6 * weights + 2 * weights;
}

}  // namespace birdie::bandit
