// A run's evaluations (docs/method.md §4): at the policy's evaluation steps the validation
// losses of every configuration, handed to the policy, whose work runs beside training
// (deferred_policy.h); when it is done, its record goes to evaluations.jsonl with a
// progress line, the plot is refreshed, and at its effect step the loader switches to the
// new mixture.
#pragma once

#include <cstdint>

#include "training/run.h"

namespace birdie::training {

class RunEvaluations {
 public:
  explicit RunEvaluations(Run& run);

  // After training step `step`: an evaluation when the policy has one at this step (its
  // validation losses measured now, the policy started), and whatever an earlier one
  // brings at this step (its record, its mixture).
  void after_step(std::int64_t step);
  // Before a checkpoint: waits for the running evaluation and logs its record (a
  // checkpoint holds no running evaluation).
  void settle();

  // What this invocation's evaluations held training up: validation, and the policy's
  // work (or, beside training, the waits for it).
  std::int64_t count() const { return made_; }
  double seconds() const { return seconds_; }

 private:
  void apply(const DeferredPolicy::Update& update);

  Run& run_;
  std::int64_t made_ = 0;
  double seconds_ = 0;
};

}  // namespace birdie::training
