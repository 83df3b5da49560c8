#include <doctest/doctest.h>

#include "bandit/evaluation_budget.h"
#include "bandit/evaluation_schedule.h"
#include "bandit/mixture_policy.h"
#include "bandit/reward_critic.h"

using namespace birdie::bandit;

namespace {

// A run's costs: a model of `parameters` weights, `tokens` per step, `validation_tokens`
// per evaluation, and the default critic over 101 configurations when it shares the
// processor.
EvaluationCosts costs(double parameters, double tokens, double validation_tokens, bool critic) {
  EvaluationCosts c;
  c.training_step_flops = 6 * parameters * tokens;
  c.validation_flops = 2 * parameters * validation_tokens;
  if (critic) add_policy_costs(MixturePolicyConfig{}, 101, c);
  return c;
}

}  // namespace

TEST_CASE("budget: the paper's run keeps the paper's 37 evaluations") {
  // 1.4B parameters, 32000 steps of about 1M tokens, 101 configurations x 8 samples x 2048.
  const EvaluationPlan plan = plan_evaluations(32000, 0.1, costs(1.4e9, 1 << 20, 101 * 8 * 2048, true));
  CHECK(plan.steps == evaluation_schedule(32000));
  CHECK(plan.schedule_evaluations == 37);
  CHECK(plan.estimated_share < 0.001);
  CHECK_FALSE(plan.over_budget);
}

TEST_CASE("budget: a short run of a small model evaluates less often, within its budget") {
  // The tiny CPU run: 1.7M parameters, 240 steps of 2048 tokens, 101 x 2 rows of 256.
  const EvaluationCosts tiny = costs(1.7e6, 2048, 101 * 2 * 256, true);
  const EvaluationPlan plan = plan_evaluations(240, 0.25, tiny);
  CHECK(plan.schedule_evaluations == std::int64_t(evaluation_schedule(240).size()));
  CHECK(std::int64_t(plan.steps.size()) < plan.schedule_evaluations);
  CHECK(std::int64_t(plan.steps.size()) >= minimum_planned_evaluations);
  CHECK(plan.estimated_share <= 0.25);
  CHECK(plan.estimated_share == doctest::Approx(evaluation_share(240, std::int64_t(plan.steps.size()), tiny)));
  // One more evaluation would have gone over.
  CHECK(evaluation_share(240, std::int64_t(plan.steps.size()) + 1, tiny) > 0.25);
  CHECK(plan.steps == evaluation_schedule(240, std::int64_t(plan.steps.size())));
  // A larger budget affords more, no limit all of them; more rows per step too.
  CHECK(plan_evaluations(240, 0.5, tiny).steps.size() > plan.steps.size());
  CHECK(plan_evaluations(240, 0, tiny).steps == evaluation_schedule(240));
  CHECK(plan_evaluations(240, 0.25, costs(1.7e6, 4 * 2048, 101 * 2 * 256, true)).steps.size() > plan.steps.size());
  // Without the critic on the training's processor (a GPU run) evaluations are cheaper.
  CHECK(plan_evaluations(240, 0.25, costs(1.7e6, 2048, 101 * 2 * 256, false)).steps.size() > plan.steps.size());
}

TEST_CASE("budget: too short a run keeps the fewest evaluations and says it is over budget") {
  const EvaluationPlan plan = plan_evaluations(30, 0.1, costs(1.7e6, 2048, 101 * 2 * 256, true));
  CHECK(std::int64_t(plan.steps.size()) == minimum_planned_evaluations);
  CHECK(plan.over_budget);
  CHECK(plan.estimated_share > 0.1);
  // A run with fewer scheduled evaluations than the minimum keeps them all.
  CHECK(plan_evaluations(2, 0.1, costs(1.7e6, 2048, 101 * 2 * 256, true)).steps == evaluation_schedule(2));
  CHECK_THROWS(plan_evaluations(240, 1.5, costs(1.7e6, 2048, 1, true)));
  CHECK_THROWS(plan_evaluations(240, -0.1, costs(1.7e6, 2048, 1, true)));
}

TEST_CASE("budget: the critic's cost grows with its history and vanishes for fixed mixtures") {
  EvaluationCosts c;
  MixturePolicyConfig birdie;
  add_policy_costs(birdie, 101, c);
  const double weights = double(critic_parameter_count({101, 256, 512, 4}));
  CHECK(c.policy_flops_per_history_row == doctest::Approx(200 * 6 * weights + 2 * weights));
  CHECK(c.policy_flops > 8192 * 2 * weights);
  MixturePolicyConfig ntp;
  ntp.kind = "ntp";
  add_policy_costs(ntp, 1, c);
  CHECK(c.policy_flops == 0);
  CHECK(c.policy_flops_per_history_row == 0);
}

TEST_CASE("critic parameter count: the critic's own") {
  const RewardCriticConfig config{13, 32, 48, 2};
  RewardCritic critic(config, 1);
  CHECK(critic_parameter_count(config) == critic.parameters().values().numel());
}
