#include "apps/common/trainer.h"

#include <cmath>

#include "autograd/tape.h"
#include "engine/nvtx.h"
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

std::int64_t counted_targets(const objectives::PackedBatch& batch) {
  std::int64_t n = 0;
  for (auto t : batch.targets) n += t >= 0;
  return n;
}

// Adds each counted position's CE into its objective's bucket.
void add_by_objective(const objectives::PackedBatch& batch, const Tensor& row_loss, StepResult& out) {
  const std::vector<double> losses = row_loss.to_vector<double>();
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

}  // namespace

Trainer::Trainer(model::GatedSsmLm& lm, const autograd::AdamWConfig& optimizer)
    : lm_(lm), optimizer_(lm.parameters(), optimizer) {}

StepResult Trainer::step(std::span<const objectives::PackedBatch> micro_batches, double lr) {
  BIRDIE_NVTX_RANGE("trainer.step");
  StepResult result;
  for (const auto& batch : micro_batches) result.counted += counted_targets(batch);
  lm_.parameters().zero_grad();
  double loss_sum = 0;
  for (const auto& batch : micro_batches) {
    const DeviceBatch b = upload(batch, lm_.device());
    const auto ce = lm_.loss(b.tokens, b.targets, b.reset);
    result.tokens += static_cast<std::int64_t>(batch.tokens.size());
    if (ce.counted == 0) {
      autograd::tape().clear();
      continue;
    }
    // Weight each micro-batch by its share of the counted tokens: the gradient is that of
    // the per-token mean over the whole step.
    const double weight = double(ce.counted) / double(result.counted);
    loss_sum += ce.loss.item() * weight;
    add_by_objective(batch, ce.row_loss, result);
    autograd::backward(autograd::scale(ce.loss, weight));
  }
  result.loss = loss_sum;
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

std::vector<double> validation_losses(const model::GatedSsmLm& lm,
                                      const std::vector<objectives::ValidationSet>& sets) {
  BIRDIE_NVTX_RANGE("validation_losses");
  autograd::NoGradGuard no_grad;
  std::vector<double> losses;
  for (const auto& set : sets) {
    const DeviceBatch b = upload(set.rows, lm.device());
    const auto ce = lm.loss(b.tokens, b.targets, b.reset);
    losses.push_back(ce.counted > 0 ? ce.loss.item() : NAN);
  }
  return losses;
}

}  // namespace birdie::apps
