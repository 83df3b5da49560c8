// Optimizer steps over packed micro-batches, shared by pretrain and phonebook_eval's
// fine-tuning.
#pragma once

#include <deque>
#include <span>
#include <vector>

#include "autograd/adamw.h"
#include "model/language_model.h"
#include "objectives/packed_batch.h"

namespace birdie::training {

struct StepResult {
  std::int64_t step = 0;    // the number the caller gave the step
  double lr = 0;            // its learning rate
  double loss = 0;          // mean CE per counted token over all micro-batches
  double grad_norm = 0;     // before clipping (NaN when the loss was not finite)
  std::int64_t tokens = 0;  // row positions processed (padding included)
  std::int64_t counted = 0; // target tokens in the loss
  bool skipped = false;     // non-finite loss or gradient: nothing was updated
};

// Steps are queued, and their results come back later: on a GPU the host queues step n
// while the device still runs step n − 1, and learns step n − 1's loss, gradient norm and
// whether it was skipped only then, from values copied behind it (the skip itself is
// decided on the device: autograd/adamw.h). No step waits for the device while it is
// queued. Reading finished_steps() after each step (as pretrain does) keeps the host at
// most one step ahead: a wait for step n − 1 there leaves step n queued, so the device
// never runs dry. On the CPU a step is done when step() returns.
//
// Data parallel, the rule: every rank issues the same collectives, in the same order and
// of the same sizes, in every step and every evaluation, whatever its share held (a rank
// that issues others hangs the job until the collective watchdog ends it, or sums the
// wrong ranges: engine/distributed.h). A rank whose share of a step holds no counted
// targets, or an evaluation set without targets, still takes part in each collective, and
// whatever picks the collectives (here: whether the gradients' sum is bucketed during the
// backward pass) is decided from values every rank has, such as the counts summed over
// the ranks before the step, never from one rank's own data. tests/data_parallel_trainer.sh
// runs steps where one rank's share holds no targets on 2 ranks.
class Trainer {
 public:
  Trainer(model::LanguageModel& lm, const autograd::AdamWConfig& optimizer);

  // Queues the gradients of the per-token mean loss over all micro-batches (accumulated),
  // then one AdamW step with learning rate lr, which the device skips when the loss or the
  // gradient is not finite. `step` names it in its result.
  void step(std::int64_t step, std::span<const objectives::PackedBatch> micro_batches, double lr);
  // The results of queued steps, oldest first, each once: every step queued before the
  // last one (waiting for the device if it has not finished them; on the CPU, every step),
  // or with all = true every queued step (a wait until the device is done: before a
  // checkpoint, at the end of a run, or when a value is wanted now). Every rank gets the
  // same results at the same calls.
  std::vector<StepResult> finished_steps(bool all = false);
  // How many of the newest queued steps finished_steps() leaves unread: 1 on a GPU, 0 on
  // the CPU (where every step is done when step() returns). Tests set 1 on the CPU to run
  // a GPU's bookkeeping.
  void set_steps_ahead(std::size_t steps) { steps_ahead_ = steps; }

  autograd::AdamW& optimizer() { return optimizer_; }
  model::LanguageModel& model() { return lm_; }

 private:
  model::LanguageModel& lm_;
  autograd::AdamW optimizer_;
  struct Queued {
    StepResult known;  // what the host knows when it queues the step
    autograd::PendingStepReport report;
  };
  std::deque<Queued> queued_;
  std::size_t steps_ahead_;
  Tensor loss_;  // f64 [1] on the model's device: the step's loss, summed over the ranks
};

}  // namespace birdie::training
