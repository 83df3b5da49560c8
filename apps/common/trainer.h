// One optimizer step over packed micro-batches, and the validation losses of §4, shared by
// pretrain and phonebook_eval's fine-tuning.
#pragma once

#include <span>
#include <vector>

#include "autograd/adamw.h"
#include "model/language_model.h"
#include "objectives/packed_batch.h"
#include "objectives/validation_set.h"

namespace birdie::apps {

struct StepResult {
  double loss = 0;          // mean CE per counted token over all micro-batches
  double grad_norm = 0;     // before clipping
  std::int64_t tokens = 0;  // row positions processed (padding included)
  std::int64_t counted = 0; // target tokens in the loss
  bool skipped = false;     // non-finite loss or gradient: nothing was updated
  std::vector<double> loss_by_objective;   // summed CE per objective index (for per-class means)
  std::vector<double> count_by_objective;  // counted targets per objective index
};

class Trainer {
 public:
  Trainer(model::LanguageModel& lm, const autograd::AdamWConfig& optimizer);

  // Gradients of the per-token mean loss over all micro-batches (accumulated), then one
  // AdamW step with learning rate lr, unless the loss or the gradient is not finite.
  StepResult step(std::span<const objectives::PackedBatch> micro_batches, double lr);

  autograd::AdamW& optimizer() { return optimizer_; }
  model::LanguageModel& model() { return lm_; }

 private:
  model::LanguageModel& lm_;
  autograd::AdamW optimizer_;
};

// L[i] = mean CE over validation set i's label tokens (no gradients recorded). On several
// ranks each computes every world-size-th set and the losses are gathered: every rank
// returns all of them, the same bits (a set's loss comes from one rank alone).
std::vector<double> validation_losses(const model::LanguageModel& lm,
                                      const std::vector<objectives::ValidationSet>& sets);

}  // namespace birdie::apps
