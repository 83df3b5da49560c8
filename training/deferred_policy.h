// A mixture policy's evaluation work (retraining the critic, scoring candidates: seconds
// of CPU) run on a background thread while training goes on, its mixture taking effect
// exactly `lag` steps after the evaluation, or at the next evaluation if that comes
// first. The run therefore does not depend on the thread's speed (the trainer waits at
// the effect step if the work is not done), and a checkpoint taken in between resumes it
// exactly. lag = 0 runs the policy at once, as the reference procedure does.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <vector>

#include "bandit/mixture_policy.h"
#include "model/checkpoint.h"

namespace birdie::training {

class DeferredPolicy {
 public:
  DeferredPolicy(bandit::MixturePolicy& policy, std::int64_t lag);
  ~DeferredPolicy();  // waits for a running evaluation
  DeferredPolicy(const DeferredPolicy&) = delete;
  DeferredPolicy& operator=(const DeferredPolicy&) = delete;

  // What the trainer does after a step: log an evaluation's record (once per evaluation),
  // and switch the loader to the policy's current mixture.
  struct Update {
    std::optional<bandit::EvaluationRecord> record;
    bool switch_mixture = false;
  };

  // At evaluation step `step`, after its validation losses: starts the policy's observe.
  // `next_evaluation`: the next evaluation step (or the last step), the latest effect step.
  // An earlier evaluation must have taken effect (after_step at its effect step).
  // `validation_seconds`: how long the losses took, for the record.
  void start(std::int64_t step, std::vector<double> losses, std::int64_t next_evaluation,
             double validation_seconds = 0);
  // After training step `step` (and after start at an evaluation step).
  Update after_step(std::int64_t step);
  // Before a checkpoint or at the end: waits for the running evaluation and returns its
  // record if it was not logged yet (its mixture still takes effect at its step).
  std::optional<bandit::EvaluationRecord> settle();

  // The weights training uses now: the policy's, or the previous ones while an
  // evaluation's mixture waits for its effect step.
  const std::vector<double>& mixture_in_effect() const { return in_effect_; }

  // A pending switch goes into the checkpoint (section "deferred_mixture": the weights in
  // effect and the step the policy's mixture replaces them); call settle() first.
  void save(model::TrainingState& state) const;
  // After the policy itself was restored from `state`.
  void restore(const model::TrainingState& state);

 private:
  // Joins the running evaluation into finished_, recording how long training waited for it
  // (at its effect step, or at a checkpoint).
  void finish();

  bandit::MixturePolicy& policy_;
  std::int64_t lag_;
  std::vector<double> in_effect_;
  std::future<bandit::EvaluationRecord> running_;
  std::optional<bandit::EvaluationRecord> finished_;  // done, not yet logged
  std::int64_t effect_step_ = -1;                     // -1: no switch pending
  double validation_seconds_ = 0;                     // of the running evaluation
};

}  // namespace birdie::training
