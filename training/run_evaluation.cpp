#include "training/run_evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "bandit/evaluation_record.h"
#include "engine/distributed.h"
#include "engine/fingerprint.h"
#include "engine/nvtx.h"
#include "engine/timer.h"
#include "training/run_plot.h"
#include "training/validation_losses.h"

namespace birdie::training {

namespace {

// Per-class means of per-configuration values (losses or weights), in class order.
std::map<std::string, double> by_class(const std::vector<objectives::ObjectiveConfig>& configs,
                                       const std::vector<double>& values, bool mean) {
  std::map<std::string, double> sum, count;
  for (std::size_t i = 0; i < configs.size() && i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    const std::string name(objectives::class_name(configs[i].objective_class()));
    sum[name] += values[i];
    count[name] += 1;
  }
  if (mean)
    for (auto& [name, total] : sum) total /= count[name];
  return sum;
}

void print_record(const bandit::EvaluationRecord& record, const std::vector<objectives::ObjectiveConfig>& configs,
                  bool beside_training) {
  std::printf("evaluation @ %lld (%s%s):", (long long)record.step, record.decision.c_str(),
              record.explored ? ", explored" : "");
  const auto class_losses = by_class(configs, record.losses, true);
  const auto class_mass = by_class(configs, record.mixture, false);
  for (const auto& [name, loss] : class_losses)
    std::printf(" %s %.3f (p=%.2f)", name.c_str(), loss, class_mass.count(name) ? class_mass.at(name) : 0.0);
  std::printf(" [validation %.2f s, critic %.2f s, scoring %.2f s", record.validation_seconds, record.critic_seconds,
              record.scoring_seconds);
  if (beside_training)
    std::printf("; policy %.2f s beside training, waited %.2f s", record.seconds, record.wait_seconds);
  std::printf("]\n");
  for (const auto& w : record.warnings) std::printf("  warning: %s\n", w.c_str());
}

}  // namespace

RunEvaluations::RunEvaluations(Run& run) : run_(run) {}

// An evaluation's record goes to the log once its policy work is done (at its effect
// step, or at a checkpoint before it); the loader switches mixtures at the effect step.
void RunEvaluations::apply(const DeferredPolicy::Update& update) {
  if (update.switch_mixture) {
    const std::vector<double> mixture = run_.policy->current_mixture();
    distributed::check_same_on_all_ranks(fnv1a(mixture.data(), mixture.size() * sizeof(double)), "the mixture");
    run_.loader->set_mixture(bandit::current_objective_mixture(*run_.policy));
  }
  if (!update.record) return;
  const bandit::EvaluationRecord& record = *update.record;
  const bool beside_training = run_.config.policy_lag_steps > 0;
  ++made_;
  seconds_ += record.validation_seconds + (beside_training ? record.wait_seconds : record.seconds);
  run_.evaluations->append(bandit::to_json_line(record, run_.policy->configurations()));
  print_record(record, run_.policy->configurations(), beside_training);
  if (distributed::world().rank == 0) write_run_plot(run_);
}

void RunEvaluations::after_step(std::int64_t step) {
  apply(run_.deferred->after_step(step));  // an earlier evaluation's mixture taking effect now
  const auto& steps = run_.policy->evaluation_steps();
  const auto next = std::lower_bound(steps.begin(), steps.end(), step);
  if (next == steps.end() || *next != step) return;
  BIRDIE_NVTX_RANGE("evaluation");
  Stopwatch validation_clock;
  std::vector<double> losses = validation_losses(*run_.lm, run_.validation, int(run_.config.rows));
  run_.deferred->start(step, std::move(losses), next + 1 != steps.end() ? *(next + 1) : run_.config.steps,
                       validation_clock.seconds());
  apply(run_.deferred->after_step(step));  // policy_lag_steps = 0: at once
}

void RunEvaluations::settle() { apply({run_.deferred->settle(), false}); }

}  // namespace birdie::training
