#include "apps/common/trainer.h"

#include <algorithm>
#include <cmath>

#include "autograd/gradients_final.h"
#include "autograd/tape.h"
#include "engine/distributed.h"
#include "engine/nvtx.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "objectives/batch_tensors.h"

namespace birdie::apps {

namespace {

struct DeviceBatch {
  Tensor tokens, targets, reset;
};

DeviceBatch upload(const objectives::PackedBatch& batch, Device device) {
  const objectives::BatchTensors t = objectives::to_tensors(batch);
  return {t.tokens.to(device), t.targets.to(device), t.reset.to(device)};
}

// Counts (and validates, while the targets are still on the host) the targets in the loss.
std::int64_t counted_targets(const objectives::PackedBatch& batch, std::int64_t vocab) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < batch.targets.size(); ++i) {
    const std::int32_t t = batch.targets[i];
    BIRDIE_CHECK(t == kernels::ignore_index || (t >= 0 && t < vocab), "packed batch: target ", t,
                 " at position ", i, " is outside the model's vocabulary [0, ", vocab,
                 "): the data was tokenized with another tokenizer than the model's");
    n += t != kernels::ignore_index;
  }
  return n;
}

// Adds each counted position's CE (losses[i] for the batch's position i) into its
// objective's bucket.
void add_by_objective(const objectives::PackedBatch& batch, std::span<const double> losses,
                      StepResult& out) {
  for (std::size_t i = 0; i < batch.targets.size(); ++i) {
    if (batch.targets[i] < 0 || batch.objective[i] < 0) continue;
    const auto k = static_cast<std::size_t>(batch.objective[i]);
    if (out.loss_by_objective.size() <= k) {
      out.loss_by_objective.resize(k + 1, 0.0);
      out.count_by_objective.resize(k + 1, 0.0);
    }
    out.loss_by_objective[k] += losses[i];
    out.count_by_objective[k] += 1;
  }
}

// Every rank calls the same collectives, whatever its share held: the gradients, then
// the losses and counts (per objective over the longest list any rank has).
// The gradients' reduction was started during the last backward pass when there was one.
void reduce_over_ranks(StepResult& result, autograd::AdamW& optimizer, bool reduction_started) {
  BIRDIE_NVTX_RANGE("trainer.all_reduce");
  if (reduction_started) optimizer.finish_reduction();
  else optimizer.reduce_gradients();
  const auto objectives = static_cast<std::size_t>(
      distributed::all_reduce_max(static_cast<std::int64_t>(result.loss_by_objective.size())));
  result.loss_by_objective.resize(objectives, 0.0);
  result.count_by_objective.resize(objectives, 0.0);
  std::vector<double> sums{result.loss};
  sums.insert(sums.end(), result.loss_by_objective.begin(), result.loss_by_objective.end());
  sums.insert(sums.end(), result.count_by_objective.begin(), result.count_by_objective.end());
  distributed::all_reduce_sum(sums);
  result.loss = sums[0];
  std::copy_n(sums.begin() + 1, objectives, result.loss_by_objective.begin());
  std::copy_n(sums.begin() + 1 + std::ptrdiff_t(objectives), objectives, result.count_by_objective.begin());
}

}  // namespace

Trainer::Trainer(model::LanguageModel& lm, const autograd::AdamWConfig& optimizer)
    : lm_(lm), optimizer_(lm.parameters(), optimizer) {}

// The device never waits for the host inside a step: targets are counted on the host,
// each micro-batch's loss is added into a device scalar and its row losses copied into one
// device buffer, and both are read once, after the last backward pass.
//
// Data parallel (engine/distributed.h): each rank passes its share of the global batch.
// The counted targets are summed over the ranks first, so each rank's loss is its part of
// the global per-token mean and the gradients summed over the ranks are those of one rank
// holding every row; AdamW then clips by the global norm, the same on every rank.
StepResult Trainer::step(std::span<const objectives::PackedBatch> micro_batches, double lr) {
  BIRDIE_NVTX_RANGE("trainer.step");
  StepResult result;
  std::vector<std::int64_t> counted(micro_batches.size());
  std::int64_t positions = 0;
  for (std::size_t i = 0; i < micro_batches.size(); ++i) {
    counted[i] = counted_targets(micro_batches[i], lm_.config().vocab);
    result.counted += counted[i];
    positions += static_cast<std::int64_t>(micro_batches[i].targets.size());
  }
  std::int64_t totals[2] = {result.counted, positions};
  distributed::all_reduce_sum(totals);
  const std::int64_t global_counted = totals[0];
  lm_.parameters().zero_grad();
  Tensor step_loss, row_losses;  // [1] and [positions], on the model's device
  std::int64_t offset = 0;
  // The last micro-batch with a loss: its backward pass overlaps the gradients' reduction.
  std::size_t last_backward = micro_batches.size();
  for (std::size_t i = 0; i < micro_batches.size(); ++i)
    if (counted[i] > 0) last_backward = i;
  bool reduction_started = false;
  for (std::size_t i = 0; i < micro_batches.size(); ++i) {
    const auto& batch = micro_batches[i];
    const auto rows = static_cast<std::int64_t>(batch.targets.size());
    result.tokens += rows;
    if (counted[i] == 0) {
      offset += rows;
      continue;
    }
    const DeviceBatch b = [&] {
      BIRDIE_NVTX_RANGE("trainer.upload");
      return upload(batch, lm_.device());
    }();
    // Weight each micro-batch by its share of the counted tokens: the gradient is that of
    // the per-token mean over the whole step.
    const double weight = double(counted[i]) / double(global_counted);
    const auto ce = lm_.loss(b.tokens, b.targets, b.reset, {counted[i], weight});
    if (!step_loss.defined()) {
      step_loss = Tensor::zeros({1}, ce.loss.dtype(), lm_.device());
      row_losses = Tensor::zeros({positions}, ce.row_loss.dtype(), lm_.device());
    }
    kernels::accumulate(step_loss, ce.loss);
    row_losses.slice(offset, offset + rows).copy_from(ce.row_loss);
    offset += rows;
    if (i == last_backward && distributed::collectives_run()) {
      optimizer_.begin_reduction();
      reduction_started = true;
      const autograd::GradientsFinalListener listener(
          [this](autograd::ParameterRange range) { optimizer_.gradients_final(range); });
      autograd::backward(ce.loss);
    } else {
      autograd::backward(ce.loss);
    }
  }
  if (step_loss.defined()) {
    BIRDIE_NVTX_RANGE("trainer.read_losses");
    result.loss = step_loss.item();
    const std::vector<double> losses = row_losses.to_vector<double>();
    offset = 0;
    for (const auto& batch : micro_batches) {
      add_by_objective(batch, std::span(losses).subspan(static_cast<std::size_t>(offset), batch.targets.size()),
                       result);
      offset += static_cast<std::int64_t>(batch.targets.size());
    }
  }
  if (distributed::collectives_run()) {
    reduce_over_ranks(result, optimizer_, reduction_started);
    result.counted = global_counted;
    result.tokens = totals[1];
  }
  if (!std::isfinite(result.loss)) {
    result.skipped = true;
    result.grad_norm = NAN;
    return result;
  }
  const auto report = optimizer_.step(lr);
  result.grad_norm = report.grad_norm;
  result.skipped = report.skipped;
  return result;
}

std::vector<double> validation_losses(const model::LanguageModel& lm,
                                      const std::vector<objectives::ValidationSet>& sets) {
  BIRDIE_NVTX_RANGE("validation_losses");
  autograd::NoGradGuard no_grad;
  // Each set's loss is written into its slot on the device; all are read at the end.
  Tensor losses;
  std::vector<bool> empty(sets.size(), false);
  const distributed::World& world = distributed::world();
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (int(i % std::size_t(world.size)) != world.rank) continue;  // another rank's set
    const std::int64_t counted = counted_targets(sets[i].rows, lm.config().vocab);
    if (counted == 0) {
      empty[i] = true;
      continue;
    }
    const DeviceBatch b = upload(sets[i].rows, lm.device());
    const auto ce = lm.loss(b.tokens, b.targets, b.reset, {counted, 1.0});
    if (!losses.defined()) losses = Tensor::zeros({std::int64_t(sets.size())}, ce.loss.dtype(), lm.device());
    losses.slice(std::int64_t(i), std::int64_t(i) + 1).copy_from(ce.loss);
  }
  std::vector<double> values = losses.defined() ? losses.to_vector<double>()
                                                : std::vector<double>(sets.size(), 0.0);
  for (std::size_t i = 0; i < sets.size(); ++i)
    if (empty[i]) values[i] = NAN;
  distributed::all_reduce_sum(values);  // each set's loss from one rank, zeros from the others
  return values;
}

}  // namespace birdie::apps
