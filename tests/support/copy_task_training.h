// Training a tiny language model on the copy task (data/tasks/copy_task.h), as the
// architectures' learning tests do, and measuring what it learned.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "model/language_model.h"

namespace birdie::testing {

// `steps` steps of AdamW (β 0.9, 0.95, ε 1e-8, no weight decay, clip 1) at
// lr · min(1, step / warmup_steps) on copy-task batches drawn from `rng`, none skipped;
// the loss of each step. `last_batch` (optional) receives the last step's batch.
inline std::vector<double> train_on_copy_task(model::LanguageModel& lm, const data::CopyTaskConfig& task,
                                              RandomGenerator& rng, int steps, double lr, double warmup_steps,
                                              data::CopyTaskBatch* last_batch = nullptr) {
  autograd::AdamW optimizer(lm.parameters(), {0.9, 0.95, 1e-8, 0.0, 1.0});
  std::vector<double> losses;
  for (int step = 1; step <= steps; ++step) {
    const auto batch = data::make_copy_task_batch(task, rng);
    lm.parameters().zero_grad();
    const auto result = lm.loss(batch.tokens, batch.targets, batch.reset);
    autograd::backward(result.loss);
    REQUIRE_FALSE(optimizer.step(lr * std::min(1.0, step / warmup_steps)).skipped);
    losses.push_back(result.loss.item());
    if (last_batch && step == steps) *last_batch = batch;
  }
  return losses;
}

// The mean of the last 10 losses.
inline double mean_of_last_10(const std::vector<double>& losses) {
  double last = 0;
  for (std::size_t i = losses.size() - 10; i < losses.size(); ++i) last += losses[i] / 10;
  return last;
}

// Token accuracy on `batch`: the share of counted targets that are the argmax of their logits.
inline double copy_task_accuracy(const model::LanguageModel& lm, const data::CopyTaskBatch& batch) {
  autograd::NoGradGuard no_grad;
  const std::int64_t vocab = lm.config().vocab;
  const auto logits = lm.logits(batch.tokens, batch.reset).to_vector<float>();
  const auto targets = batch.targets.to_vector<std::int32_t>();
  std::int64_t counted = 0, right = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] < 0) continue;
    const float* row = logits.data() + i * vocab;
    ++counted;
    right += std::max_element(row, row + vocab) - row == targets[i];
  }
  return double(right) / double(counted);
}

}  // namespace birdie::testing
