#include "training/trainer.h"

#include <algorithm>
#include <cmath>

#include "autograd/gradients_final.h"
#include "autograd/tape.h"
#include "engine/distributed.h"
#include "engine/nvtx.h"
#include "kernels/convert.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "objectives/batch_tensors.h"

namespace birdie::training {

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

}  // namespace

Trainer::Trainer(model::LanguageModel& lm, const autograd::AdamWConfig& optimizer)
    : lm_(lm), optimizer_(lm.parameters(), optimizer), steps_ahead_(lm.device() == Device::cpu ? 0 : 1) {}

// Nothing in a step waits for the device: targets are counted on the host, each
// micro-batch's loss is added into a device scalar, AdamW decides on the device whether to
// skip (autograd/adamw.h), and the loss comes back with AdamW's report, later.
//
// Data parallel (engine/distributed.h): each rank passes its share of the global batch.
// The counted targets are summed over the ranks first, so each rank's loss is its part of
// the global per-token mean and the gradients summed over the ranks are those of one rank
// holding every row; the losses are summed over the ranks on the device, and AdamW clips
// by the global norm and skips on the global loss, the same on every rank.
//
// Every rank issues the same collectives (trainer.h): what decides which ones comes from
// that first sum, never from the rank's own share. A share without counted targets has no
// backward pass, so no gradients_final marks to cut the gradient buffer into buckets by;
// the ranks therefore also count the ranks whose share holds none, and when there is any,
// none overlaps the reduction with its backward pass: all sum the whole buffer after it.
void Trainer::step(std::int64_t step, std::span<const objectives::PackedBatch> micro_batches, double lr) {
  BIRDIE_NVTX_RANGE("trainer.step");
  StepResult known;
  known.step = step;
  known.lr = lr;
  std::vector<std::int64_t> counted(micro_batches.size());
  std::int64_t positions = 0;
  for (std::size_t i = 0; i < micro_batches.size(); ++i) {
    counted[i] = counted_targets(micro_batches[i], lm_.config().vocab);
    known.counted += counted[i];
    positions += static_cast<std::int64_t>(micro_batches[i].targets.size());
  }
  known.tokens = positions;
  std::int64_t totals[3] = {known.counted, positions, known.counted == 0 ? 1 : 0};
  distributed::all_reduce_sum(totals);
  const std::int64_t global_counted = totals[0];
  // Bucketed during the backward pass only when every rank has one to bucket by.
  const bool overlap_reduction = distributed::collectives_run() && totals[2] == 0;
  lm_.parameters().zero_grad();
  Tensor step_loss;  // [1], on the model's device
  // The last micro-batch with a loss: its backward pass overlaps the gradients' reduction.
  std::size_t last_backward = micro_batches.size();
  for (std::size_t i = 0; i < micro_batches.size(); ++i)
    if (counted[i] > 0) last_backward = i;
  for (std::size_t i = 0; i < micro_batches.size(); ++i) {
    if (counted[i] == 0) continue;
    const DeviceBatch b = [&] {
      BIRDIE_NVTX_RANGE("trainer.upload");
      return upload(micro_batches[i], lm_.device());
    }();
    // Weight each micro-batch by its share of the counted tokens: the gradient is that of
    // the per-token mean over the whole step.
    const double weight = double(counted[i]) / double(global_counted);
    const auto ce = lm_.loss(b.tokens, b.targets, b.reset, {counted[i], weight});
    if (!step_loss.defined()) step_loss = Tensor::zeros({1}, ce.loss.dtype(), lm_.device());
    kernels::accumulate(step_loss, ce.loss);
    if (i == last_backward && overlap_reduction) {
      optimizer_.begin_reduction();
      const autograd::GradientsFinalListener listener(
          [this](autograd::ParameterRange range) { optimizer_.gradients_final(range); });
      autograd::backward(ce.loss);
    } else {
      autograd::backward(ce.loss);
    }
  }
  // The step's loss in f64 (as the host would read it), summed over the ranks.
  if (!loss_.defined()) loss_ = Tensor::empty({1}, DType::f64, lm_.device());
  if (step_loss.defined()) kernels::convert(step_loss, loss_);
  else loss_.fill_zero();
  if (distributed::collectives_run()) {
    BIRDIE_NVTX_RANGE("trainer.all_reduce");
    // The same collectives on every rank, whatever its share held: the buckets started
    // during every rank's last backward pass, or the whole buffer on every rank.
    if (overlap_reduction) optimizer_.finish_reduction();
    else optimizer_.reduce_gradients();
    distributed::all_reduce_sum(loss_);
    known.counted = global_counted;
    known.tokens = totals[1];
  }
  queued_.push_back({known, optimizer_.queue_step(lr, loss_)});
}

std::vector<StepResult> Trainer::finished_steps(bool all) {
  // On a GPU the newest step stays queued (unless all are wanted): waiting for the one
  // before it leaves the device that step to run meanwhile. On the CPU every step is done.
  const std::size_t keep = all ? 0 : steps_ahead_;
  std::vector<StepResult> out;
  while (queued_.size() > keep) {
    BIRDIE_NVTX_RANGE("trainer.read_step");
    Queued& q = queued_.front();
    const autograd::StepReport report = q.report.get();
    StepResult r = q.known;
    r.loss = report.loss;
    r.skipped = report.skipped;
    // A non-finite loss skips the step whatever the gradient; its norm is not reported.
    r.grad_norm = std::isfinite(report.loss) ? report.grad_norm : NAN;
    out.push_back(r);
    queued_.pop_front();
  }
  return out;
}

}  // namespace birdie::training
