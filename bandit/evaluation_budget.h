// How many evaluations a run can afford. The paper's 37 evaluations cost little beside
// 32000 steps of a 1.4B model (an interval is about 1B tokens), but scaled to a short run
// of a small model the same evaluations can cost more than the training: every
// configuration's validation losses are a forward pass over configurations × samples rows,
// whatever the batch. So the run's schedule (evaluation_schedule.h) is thinned until the
// evaluations' estimated compute is at most `budget` × the training's
// (objectives.evaluation_budget), and never below minimum_planned_evaluations (the first
// evaluations seed the critic's history while the mixture stays uniform).
//
// The estimate counts floating-point operations, the same on every machine, so a run's
// schedule (and its resume) never depends on timing: a training step 6 · parameters ·
// tokens, a validation pass 2 · parameters · validation tokens, and the critic's work
// (retraining and scoring) when it runs on the processor that trains (a CPU run; on a GPU
// run it runs on the host, beside the device's work when objectives.policy_lag_steps > 0).
#pragma once

#include <cstdint>
#include <vector>

namespace birdie::bandit {

struct MixturePolicyConfig;

constexpr std::int64_t minimum_planned_evaluations = 4;

struct EvaluationCosts {
  double training_step_flops = 0;  // one optimizer step over the global batch
  double validation_flops = 0;     // one evaluation's validation losses, all configurations
  // The policy's work at one evaluation on the training's processor (0 when it runs
  // beside): a fixed part, and a part per row of the critic's history (which grows by one
  // row an evaluation).
  double policy_flops = 0;
  double policy_flops_per_history_row = 0;
};

struct EvaluationPlan {
  std::vector<std::int64_t> steps;
  std::int64_t schedule_evaluations = 0;  // in the run's schedule before thinning
  double estimated_share = 0;             // the planned evaluations' FLOPs / the training's
  bool over_budget = false;               // even the minimum exceeds the budget
};

// budget 0: no limit (the schedule as it is).
EvaluationPlan plan_evaluations(std::int64_t total_steps, double budget, const EvaluationCosts& costs);

// The FLOPs of the evaluations at `steps` (the k-th with k rows of critic history) over
// those of `total_steps` training steps.
double evaluation_share(std::int64_t total_steps, std::int64_t evaluations, const EvaluationCosts& costs);

// The reward-driven policy's work at one evaluation: `iterations` of critic retraining
// (forward and backward over the history rows, an AdamW update of every weight) and one
// step of every candidate from the history's state. Sets policy_flops and
// policy_flops_per_history_row; both 0 for the fixed mixtures (no critic).
void add_policy_costs(const MixturePolicyConfig& config, std::int64_t configurations, EvaluationCosts& costs);

}  // namespace birdie::bandit
