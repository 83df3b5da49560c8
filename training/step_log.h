// The record of a run's steps as their results arrive (a step behind on a GPU,
// trainer.h), in step order: a progress line and a metrics.jsonl line every
// schedule.log_every steps (and at the first and last step), a skipped step's line, and
// the stop after schedule.max_bad_steps non-finite steps in a row.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/timer.h"
#include "training/run.h"

namespace birdie::training {

class StepLog {
 public:
  explicit StepLog(Run& run);

  // exit_non_finite (3) when the run must stop, otherwise 0.
  int record(const std::vector<StepResult>& results);

  double last_loss() const { return last_loss_; }  // of the last step not skipped
  double seconds() const { return clock_.seconds(); }  // since the log began

 private:
  Run& run_;
  Stopwatch clock_;
  double tokens_since_ = 0, time_mark_ = 0;
  int bad_streak_ = 0;
  double last_loss_;
};

}  // namespace birdie::training
