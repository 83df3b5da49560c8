// training/trainer: steps queued, their results read later (a step behind on a GPU, run
// here on the CPU with set_steps_ahead(1)), and a step with a non-finite loss skipped by
// AdamW's device-side decision exactly: the run afterwards is the run without that step,
// bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "training/trainer.h"
#include "engine/random.h"
#include "model/language_model.h"
#include "support/prompt_label_rows.h"

using namespace birdie;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_skipped_step_changes_nothing(DType compute) {
  CAPTURE(dtype_name(compute));
  const model::ModelConfig config{40, 12, 16, 2};
  const auto lagged_lm = model::make_language_model(config, DType::f32, Device::cpu, 7, compute);
  const auto direct_lm = model::make_language_model(config, DType::f32, Device::cpu, 7, compute);
  const autograd::AdamWConfig optimizer{0.9, 0.95, 1e-8, 0.1, 0.5};
  training::Trainer lagged(*lagged_lm, optimizer), direct(*direct_lm, optimizer);
  lagged.set_steps_ahead(1);  // a GPU's bookkeeping: each result read a step later
  RandomGenerator rng(11);
  std::vector<objectives::PackedBatch> batches;
  for (int i = 0; i < 5; ++i) batches.push_back(testing::prompt_label_rows(rng, std::int32_t(config.vocab)));
  const auto lr = [](std::int64_t step) { return 1e-2 * double(step); };
  const auto one = [&](int step) { return std::span(&batches[std::size_t(step - 1)], 1); };

  // The lagged run takes step 3 with every weight the forward reads poisoned: its loss and
  // gradient are NaN, and AdamW must skip it. The direct run never takes step 3.
  std::vector<training::StepResult> seen, direct_seen;
  const auto take = [](std::vector<training::StepResult>& into, std::vector<training::StepResult> more) {
    into.insert(into.end(), more.begin(), more.end());
    return more.size();
  };
  autograd::ParameterSet& params = lagged_lm->parameters();
  Tensor& read_by_forward = params.has_compute_copy() ? params.compute_values() : params.values();
  for (int step = 1; step <= 5; ++step) {
    CAPTURE(step);
    Tensor saved;
    if (step == 3) {
      saved = read_by_forward.clone();
      read_by_forward.copy_from(Tensor::full(read_by_forward.shape(), NAN, read_by_forward.dtype()));
    }
    lagged.step(step, one(step), lr(step));
    if (step == 3) read_by_forward.copy_from(saved);  // a skipped step left them as they were
    // Each call gives the step before (none after the first).
    CHECK(take(seen, lagged.finished_steps()) == (step == 1 ? 0u : 1u));
    if (step != 3) {
      direct.step(step, one(step), lr(step));
      CHECK(take(direct_seen, direct.finished_steps()) == 1u);  // the CPU's own: at once
    }
  }
  CHECK(take(seen, lagged.finished_steps(true)) == 1u);
  CHECK(lagged.finished_steps(true).empty());

  REQUIRE(seen.size() == 5);
  REQUIRE(direct_seen.size() == 4);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i].step == std::int64_t(i + 1));
  const training::StepResult& skipped = seen[2];
  CHECK(skipped.skipped);
  CHECK(std::isnan(skipped.loss));
  CHECK(std::isnan(skipped.grad_norm));  // a non-finite loss: no norm reported
  CHECK(skipped.lr == lr(3));
  std::size_t k = 0;
  for (const training::StepResult& r : seen) {
    if (r.step == 3) continue;
    const training::StepResult& d = direct_seen[k++];
    CAPTURE(r.step);
    CHECK(d.step == r.step);
    CHECK_FALSE(r.skipped);
    CHECK(std::isfinite(r.loss));
    CHECK(same_bits(r.loss, d.loss));
    CHECK(same_bits(r.grad_norm, d.grad_norm));
    CHECK((r.tokens == d.tokens && r.counted == d.counted && r.lr == d.lr));
  }
  // The skipped step changed nothing: weights, compute copy, moments and step count are
  // those of the run without it.
  CHECK(lagged.optimizer().steps_taken() == 4);
  CHECK(direct.optimizer().steps_taken() == 4);
  CHECK(same_bits(params.values(), direct_lm->parameters().values()));
  if (params.has_compute_copy())
    CHECK(same_bits(params.compute_values(), direct_lm->parameters().compute_values()));
  CHECK(same_bits(lagged.optimizer().first_moment(), direct.optimizer().first_moment()));
  CHECK(same_bits(lagged.optimizer().second_moment(), direct.optimizer().second_moment()));
}

}  // namespace

TEST_CASE("a step with a non-finite loss is skipped exactly and reported a step later") {
  check_skipped_step_changes_nothing(DType::f32);
  check_skipped_step_changes_nothing(DType::bf16);
}
