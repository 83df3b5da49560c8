// Fine-tuning a trained model on a task's freshly generated rows, and greedy answers: shared
// by the evaluators that fine-tune before they measure (phonebook_eval, mqar_eval).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "data/special_tokens.h"
#include "model/language_model.h"
#include "objectives/packed_batch.h"

namespace birdie::training {

// The greedy answer after prompt ‖ <sg>, at most max_new_tokens long, without its <eos>.
std::vector<data::Token> greedy_answer(const model::LanguageModel& lm, std::span<const data::Token> prompt,
                                       std::int64_t max_new_tokens);

struct FinetuneOptions {
  int steps = 0;
  double lr = 1e-3;
  double weight_decay = 0.0;      // docs/method.md §6: none
  double warmup_fraction = 0.05;  // linear warm-up over this fraction of the steps, then constant
  int eval_every = 0;             // learning-curve point every N steps (and at 0 and the end); 0: none
  int log_every = 10;
};

struct CurvePoint {
  int step = 0;
  double loss = 0;      // training loss of that step (0 at step 0)
  double accuracy = 0;  // on the held-out curve set
};

// `options.steps` AdamW steps (no weight decay by default), one batch per step from
// `batch(step)` (step = 1, 2, …); every eval_every steps `curve_accuracy()` is measured
// (held-out books, never trained on). Progress lines are prefixed with `label`. Returns the
// learning curve (empty when eval_every is 0).
std::vector<CurvePoint> finetune(model::LanguageModel& lm, const FinetuneOptions& options,
                                 const std::function<objectives::PackedBatch(int step)>& batch,
                                 const std::function<double()>& curve_accuracy, const std::string& label);

}  // namespace birdie::training
