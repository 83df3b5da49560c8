// Mixed precision (fp32 master weights, bf16 compute copy and activations): the compute
// copy's bookkeeping, the whole model against the PyTorch twin's fp32 values, AdamW and
// checkpoints keeping the copy in step (tests/copy_task_tests.cpp trains in bf16 too). On the CPU the
// kernels emulate bf16 (widen, compute in f32, round), the GPU kernels' arithmetic; the
// GPU suites run the same model on the device.
#include <doctest/doctest.h>

#include <filesystem>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/temporary_folder.h"
#include "kernels/convert.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "support/test_util.h"
#include "tests/support/gradient_errors.h"

using namespace birdie;
using namespace birdie::testing;
namespace fs = std::filesystem;

namespace {

model::GatedSsmLm mixed_model(const model::ModelConfig& config, std::uint64_t seed) {
  return model::GatedSsmLm(config, DType::f32, Device::cpu, seed, DType::bf16);
}

// Bitwise: the compute copy is exactly the master values rounded to bf16.
bool copy_matches_master(autograd::ParameterSet& p) {
  const Tensor rounded = kernels::to_dtype(p.values(), DType::bf16);
  const auto* a = rounded.data<bfloat16>();
  const auto* b = p.compute_values().data<bfloat16>();
  for (std::int64_t i = 0; i < p.count(); ++i)
    if (a[i].bits != b[i].bits) return false;
  return true;
}

}  // namespace

TEST_CASE("the compute copy: bf16 views whose gradients are the fp32 master gradients") {
  model::GatedSsmLm lm = mixed_model({20, 8, 12, 2}, 1);
  auto& p = lm.parameters();
  CHECK(lm.dtype() == DType::f32);
  CHECK(lm.compute_dtype() == DType::bf16);
  REQUIRE(p.has_compute_copy());
  CHECK(copy_matches_master(p));
  const Tensor& weight = p.compute("blocks.1.in_proj.weight");
  CHECK(weight.dtype() == DType::bf16);
  CHECK(weight.shape() == p["blocks.1.in_proj.weight"].shape());
  CHECK(weight.grad().dtype() == DType::f32);
  // The same memory as the master's gradient view: backward writes the fp32 buffer.
  CHECK(weight.grad().raw_data() == p["blocks.1.in_proj.weight"].grad().raw_data());
  // Without a copy, compute() is the master itself.
  model::GatedSsmLm plain({20, 8, 12, 2}, DType::f32, Device::cpu, 1);
  CHECK(plain.parameters().compute("head.weight").raw_data() == plain.parameters()["head.weight"].raw_data());
  CHECK_FALSE(plain.parameters().has_compute_copy());
  CHECK_THROWS_WITH_AS(plain.parameters().add_compute_copy(DType::f64), doctest::Contains("bf16 over f32"), Error);
}

// The reference is the same model in f64 with the bf16-rounded weights the compute copy
// holds, so only the rounding of activations separates the two: each op rounds its output
// to bf16 (2^-9 relative) and that compounds through about twenty ops forward and back,
// hence 2e-2 for logits and 5e-2 for gradients (a wrong rule is off by O(1)). Rounding the
// weights alone moves this tiny model's gradients by about 3% from the fp32 twin's, so
// against the twin only the loss is checked.
TEST_CASE("a bf16-compute model: logits, loss and every fp32 gradient against f64 and the PyTorch twin") {
  const fs::path dir = fs::path(BIRDIE_SOURCE_DIR) / "tests" / "fixtures" / "twin";
  const auto weights = model::read_safetensors(dir / "model.safetensors");
  const auto config = model::model_config_from_json(weights.metadata.at("config"), "twin fixture");
  model::GatedSsmLm lm = mixed_model(config, 0);
  model::load_weights(dir / "model.safetensors", lm);
  REQUIRE(copy_matches_master(lm.parameters()));
  model::GatedSsmLm reference(config, DType::f64, Device::cpu, 0);
  reference.parameters().values().copy_from(kernels::to_dtype(lm.parameters().compute_values(), DType::f64));
  const auto expected = model::read_safetensors(dir / "expected.safetensors");

  std::vector<Tensor> logits, losses;
  for (model::GatedSsmLm* m : {&lm, &reference}) {
    m->parameters().zero_grad();
    logits.push_back(m->logits(expected.at("batch.tokens"), expected.at("batch.reset")));
    const auto ce = autograd::cross_entropy(logits.back(), expected.at("batch.targets").reshape({-1}));
    losses.push_back(ce.loss);
    autograd::backward(ce.loss);
  }
  CHECK(logits[0].dtype() == DType::bf16);
  CHECK(losses[0].dtype() == DType::f32);
  const double logits_error = relative_error(logits[0], logits[1]);
  CHECK(logits_error < 2e-2);
  CHECK(losses[0].item() == doctest::Approx(losses[1].item()).epsilon(1e-2));
  CHECK(losses[0].item() == doctest::Approx(expected.at("expected.loss").item()).epsilon(1e-2));
  const double worst = check_master_gradients(lm.parameters(), reference.parameters(), 5e-2, relative_error);
  MESSAGE("bf16 compute vs f64 with the same weights: logits relative error ", logits_error,
          ", worst gradient relative error ", worst, "; loss ", losses[0].item(), " (twin, fp32 weights: ",
          expected.at("expected.loss").item(), ")");
}

TEST_CASE("AdamW rewrites the compute copy; loading a checkpoint refreshes it") {
  data::testing::TemporaryFolder tmp("birdie_mixed_precision");
  model::ModelConfig config{16, 8, 10, 2};
  model::GatedSsmLm lm = mixed_model(config, 2);
  autograd::AdamW optimizer(lm.parameters(), {});
  RandomGenerator rng(5);
  const Tensor tokens = random_ids({2, 9}, rng, 16), targets = random_ids({2, 9}, rng, 16);
  const Tensor reset = Tensor::from_values<std::int32_t>(
      {1, 0, 0, 0, 1, 0, 2, 2, 2, 1, 0, 0, 0, 0, 0, 0, 2, 2}, {2, 9});
  for (int i = 0; i < 3; ++i) {
    lm.parameters().zero_grad();
    autograd::backward(lm.loss(tokens, targets, reset).loss);
    CHECK_FALSE(optimizer.step(1e-2).skipped);
    CHECK(copy_matches_master(lm.parameters()));
  }
  const autograd::OptimizerState optimizer_state = optimizer.state();
  const fs::path saved = model::save_checkpoint(tmp.path, lm, &optimizer_state, {}, 3);
  // The checkpoint holds the fp32 master weights, never the bf16 copy.
  CHECK(model::read_safetensors(saved / "model.safetensors").at("head.weight").dtype() == DType::f32);

  model::GatedSsmLm restored = mixed_model(config, 99);
  model::load_checkpoint(saved, restored, nullptr);
  CHECK(copy_matches_master(restored.parameters()));
  autograd::NoGradGuard no_grad;
  CHECK(max_abs_difference(lm.logits(tokens, reset), restored.logits(tokens, reset)) == 0.0);
}
