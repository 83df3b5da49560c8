// model/hawk: the Hawk LM (Griffin's RG-LRU, docs/method.md §5) behind the language-model
// interface: parameters (names, count, decay groups, own initial values), a finite-
// difference gradient check of a whole tiny model in f64, recompute, information flow,
// recurrent decoding against the full pass, the copy task, the PyTorch twin, checkpoints,
// the shipped configs. (The ops it added, linear_parts and the one-token kernels of
// kernels/rglru_step.h, are tested in tests/ops/.)
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "autograd/adamw.h"
#include "autograd/gradients_final.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "model/hawk/hawk_decoder.h"
#include "model/hawk/hawk_lm.h"
#include "support/copy_task_training.h"
#include "support/language_model_checks.h"
#include "support/model_test_support.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace fs = std::filesystem;

namespace {

model::ModelConfig hawk_config(std::int64_t vocab, std::int64_t dim, std::int64_t state, std::int64_t layers,
                               std::int64_t mlp_hidden,
                               model::BidirectionalLayers bidirectional = model::BidirectionalLayers::alternate,
                               std::int64_t conv_width = 4) {
  model::ModelConfig c = architecture_config(model::Architecture::hawk, vocab, dim, layers, bidirectional);
  c.state = state;
  c.mlp_hidden = mlp_hidden;
  c.conv_width = conv_width;
  return c;
}

std::vector<double> gradients_of(model::LanguageModel& lm, const Tensor& tokens, const Tensor& targets,
                                 const Tensor& reset) {
  lm.parameters().zero_grad();
  autograd::backward(lm.loss(tokens, targets, reset).loss);
  return lm.parameters().gradients().to_vector<double>();
}

}  // namespace

TEST_CASE("Hawk parameters: count matches the formula and the registry, one contiguous run per block") {
  for (bool tied : {false, true}) {
    auto config = hawk_config(100, 12, 16, 3, 20);
    config.tie_embeddings = tied;
    model::HawkLm lm(config, DType::f32, Device::cpu, 1);
    const std::int64_t V = 100, D = 12, C = 16, L = 3, M = 20, K = 4;
    const std::int64_t block = 2 * D + 3 * C * D + 2 * C * C + (K + 4) * C + 3 * M * D;
    CHECK(config.parameter_count() == V * D + L * block + D + (tied ? 0 : V * D));
    CHECK(lm.parameters().count() == config.parameter_count());
    CHECK(lm.parameters().contains("blocks.2.temporal.lambda"));
    CHECK(lm.parameters().contains("blocks.0.mlp.out_proj.weight"));
    CHECK(lm.parameters().contains("head.weight") == !tied);
    for (std::int64_t l = 0; l < L; ++l) {
      const auto range = lm.parameters().range_of(model::block_prefix(l));
      CHECK(range.end - range.begin == block);
    }
    // Through the factory, too.
    const auto made = model::make_language_model(config, DType::f32, Device::cpu, 1);
    CHECK(made->parameters().count() == config.parameter_count());
    CHECK(dynamic_cast<model::HawkLm*>(made.get()) != nullptr);
  }
}

TEST_CASE("Hawk: no weight decay on norms, biases and Λ; own starts for Λ and the convolution") {
  auto config = hawk_config(50, 16, 64, 4, 24);
  model::HawkLm lm(config, DType::f64, Device::cpu, 3);
  auto& p = lm.parameters();
  const std::vector<bool> decays = decaying_elements(p);
  for (const char* name : {"blocks.1.temporal_norm.weight", "blocks.1.temporal.conv.bias", "blocks.1.temporal.gates.bias",
                           "blocks.1.temporal.lambda", "blocks.1.mlp_norm.weight", "final_norm.weight"})
    CHECK_MESSAGE(!decays[p.offset_of(name)], name);
  for (const char* name : {"blocks.1.temporal.in_proj.weight", "blocks.1.temporal.conv.weight",
                           "blocks.1.temporal.gates.weight", "blocks.1.temporal.out_proj.weight",
                           "blocks.1.mlp.in_proj.weight", "blocks.1.mlp.out_proj.weight", "head.weight"})
    CHECK_MESSAGE(decays[p.offset_of(name)], name);

  // σ(Λ)^8 spread evenly over [0.9, 0.999] across each half of the channels.
  const auto lambda = p["blocks.2.temporal.lambda"].to_vector<double>();
  auto decay8 = [](double l) { return std::pow(1.0 / (1.0 + std::exp(-l)), 8.0); };
  CHECK(decay8(lambda[0]) == doctest::Approx(0.9));
  CHECK(decay8(lambda[31]) == doctest::Approx(0.999));
  CHECK(decay8(lambda[32]) == doctest::Approx(0.9));
  CHECK(decay8(lambda[63]) == doctest::Approx(0.999));
  for (std::size_t k = 1; k < 32; ++k) CHECK(lambda[k] > lambda[k - 1]);
  auto std_of = [&](const char* name) { return root_mean_square(p, name); };
  const double truncation = truncated_normal_std;
  CHECK(std_of("blocks.0.temporal.conv.weight") == doctest::Approx(truncation / 2.0).epsilon(0.1));
  CHECK(std_of("blocks.0.temporal.gates.weight") == doctest::Approx(truncation / 8.0).epsilon(0.05));
  CHECK(std_of("blocks.3.mlp.out_proj.weight") ==
        doctest::Approx(truncation / std::sqrt(24.0) / std::sqrt(8.0)).epsilon(0.05));
  CHECK(std_of("blocks.3.temporal.out_proj.weight") ==
        doctest::Approx(truncation / 8.0 / std::sqrt(8.0)).epsilon(0.05));
  CHECK(p["blocks.1.temporal.gates.bias"].item(3) == 0.0);
  CHECK(p["blocks.1.mlp_norm.weight"].item(3) == 1.0);
}

TEST_CASE("gradient of a whole tiny Hawk model (two blocks, packed row with resets) in f64") {
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::none}) {
    CAPTURE(int(layers));
    model::HawkLm lm(hawk_config(7, 3, 4, 2, 5, layers, 3), DType::f64, Device::cpu, 5);
    Tensor tokens = Tensor::from_values<std::int32_t>({1, 2, 3, 4, 5, 6, 4, 2, 1, 0}, {1, 10});
    Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, -1, 5, 6, -1, 2, 1, -1, -1}, {1, 10});
    Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 1, 0, 2, 2, 1}, {1, 10});
    auto loss = [&] { return lm.loss(tokens, targets, reset).loss; };
    const auto analytic = gradients_of(lm, tokens, targets, reset);
    const std::string mismatch = first_gradient_mismatch([&] { return loss().item(); },
                                                         lm.parameters().values().data<double>(), analytic, 1e-6, 1e-8, 1e-6);
    CHECK_MESSAGE(mismatch.empty(), mismatch);
  }
}

TEST_CASE("Hawk: activation recompute gives bitwise the same gradients; each block's gradients final when marked") {
  check_recompute_and_gradient_marks(hawk_config(9, 4, 6, 3, 8));
}

TEST_CASE("Hawk with bf16 compute over f32 masters: Λ read in f32, gradients close to the f32 model's") {
  const auto config = hawk_config(20, 16, 24, 2, 20);
  Tensor tokens = Tensor::from_values<std::int32_t>({5, 6, 7, 4, 8, 9, 10, 11, 5, 4, 6, 7}, {1, 12});
  Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, -1, 8, 9, 3, -1, -1, -1, 6, 7, 3}, {1, 12});
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 2}, {1, 12});
  model::HawkLm f32(config, DType::f32, Device::cpu, 4), bf16(config, DType::f32, Device::cpu, 4, DType::bf16);
  CHECK(bf16.block(0).lambda.dtype() == DType::f32);
  CHECK(bf16.block(0).in_proj.dtype() == DType::bf16);
  const auto want = gradients_of(f32, tokens, targets, reset), got = gradients_of(bf16, tokens, targets, reset);
  const Tensor g = Tensor::from_values<double>(got, {std::int64_t(got.size())});
  const Tensor w = Tensor::from_values<double>(want, {std::int64_t(want.size())});
  MESSAGE("bf16 compute: gradient relative error ", relative_error(g, w));
  CHECK(relative_error(g, w) < 5e-2);
  const auto lambda_grad = bf16.parameters()["blocks.0.temporal.lambda"].grad().to_vector<double>();
  CHECK(std::any_of(lambda_grad.begin(), lambda_grad.end(), [](double v) { return v != 0; }));
}

TEST_CASE("whole Hawk model: segments are isolated, suffixes causal, prefixes bidirectional") {
  // Sample A: prompt 0-2, suffix 3-5; sample B: prompt 6-9, suffix 10-12; padding 13-14.
  const std::vector<std::int32_t> tokens{5, 6, 7, 4, 8, 9, 10, 11, 5, 6, 4, 6, 7, 0, 0};
  const std::vector<std::int32_t> reset{1, 0, 0, 2, 2, 2, 1, 0, 0, 0, 2, 2, 2, 1, 0};
  const int segment[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2};
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::none}) {
    CAPTURE(int(layers));
    model::HawkLm lm(hawk_config(12, 8, 10, 3, 12, layers, 3), DType::f64, Device::cpu, 2);
    for (std::size_t poke : {1u, 4u, 7u, 11u, 14u}) {
      CAPTURE(poke);
      const auto changed = changed_logit_rows(lm, tokens, reset, poke);
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        if (segment[t] != segment[poke]) CHECK_MESSAGE(!changed[t], "step ", t);
        if (segment[t] == segment[poke] && t >= poke) CHECK_MESSAGE(changed[t], "step ", t);
      }
      // A label token never reaches an earlier position.
      if (reset[poke] == 2)
        for (std::size_t t = 0; t < poke; ++t) CHECK_MESSAGE(!changed[t], "step ", t);
    }
    // The last prompt token of sample B (9) reaches the earlier prompt tokens only through
    // the bidirectional blocks: within the convolution's look-ahead (7 and 8, K = 3) and
    // beyond it through the reverse RG-LRU (6).
    const auto changed = changed_logit_rows(lm, tokens, reset, 9);
    for (std::size_t t : {6u, 7u, 8u}) CHECK_MESSAGE(changed[t] == (layers != model::BidirectionalLayers::none), "step ", t);
  }
}

namespace {
constexpr std::int32_t sg = 4;

void check_decoder_matches_full_pass(DType compute, double bound) {
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::all,
                      model::BidirectionalLayers::none}) {
    for (std::size_t prompt_length : {std::size_t(0), std::size_t(1), std::size_t(9)}) {
      CAPTURE(int(layers));
      CAPTURE(prompt_length);
      model::HawkLm lm(hawk_config(40, 16, 24, 3, 20, layers), DType::f32, Device::cpu, 7, compute);
      const std::vector<double> errors = decoder_errors(lm, prompt_length, 7, sg);
      CHECK(*std::max_element(errors.begin(), errors.end()) < bound);
    }
  }
}
}  // namespace

TEST_CASE("Hawk decoder: prefill + steps give the logits of a full forward pass (f32, 1e-5)") {
  check_decoder_matches_full_pass(DType::f32, 1e-5);
}

TEST_CASE("the same with bf16 compute over fp32 master weights (1e-2)") { check_decoder_matches_full_pass(DType::bf16, 1e-2); }

TEST_CASE("a tiny Hawk LM learns to copy: loss falls from chance to below 1.0 in 150 steps") {
  data::CopyTaskConfig task;  // strings of 4-8 symbols from 8; chance loss ln 8 = 2.08
  auto config = hawk_config(task.first_symbol + task.symbols, 64, 64, 2, 128);
  model::HawkLm lm(config, DType::f32, Device::cpu, 1);
  RandomGenerator rng(1, 1);
  data::CopyTaskBatch last_batch;
  const auto losses = testing::train_on_copy_task(lm, task, rng, 150, 3e-3, 30.0, &last_batch);
  const double last = testing::mean_of_last_10(losses);
  const double accuracy = testing::copy_task_accuracy(lm, last_batch);  // of the last batch
  MESSAGE("Hawk copy task: first loss ", losses.front(), ", mean of the last 10 ", last, ", last batch token accuracy ",
          accuracy);
  CHECK(losses.front() > 2.0);
  CHECK(last < 1.0);
}

TEST_CASE("Hawk checkpoint: save → load gives bitwise identical logits") {
  const fs::path dir = fs::temp_directory_path() / ("birdie_hawk_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto config = hawk_config(12, 8, 10, 2, 12);
  model::HawkLm lm(config, DType::f32, Device::cpu, 1);
  const Tensor tokens = Tensor::from_values<std::int32_t>({5, 6, 7, 4, 8, 9}, {1, 6});
  const Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, -1, 8, 9, 3}, {1, 6});
  const Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 2}, {1, 6});
  autograd::AdamW optimizer(lm.parameters(), {});
  for (int i = 0; i < 2; ++i) {
    lm.parameters().zero_grad();
    autograd::backward(lm.loss(tokens, targets, reset).loss);
    optimizer.step(1e-2);
  }
  model::TrainingState state;
  state.step = 2;
  const fs::path saved = model::save_checkpoint(dir, lm, nullptr, state, 1);
  const auto restored_config = model::read_checkpoint_config(saved);
  CHECK(restored_config.architecture == model::Architecture::hawk);
  CHECK(restored_config.mlp_hidden == 12);
  CHECK(restored_config.conv_width == 4);
  const auto restored = model::make_language_model(restored_config, DType::f32, Device::cpu, 999);
  model::load_checkpoint(saved, *restored, nullptr);
  autograd::NoGradGuard no_grad;
  CHECK(max_abs_difference(lm.logits(tokens, reset), restored->logits(tokens, reset)) == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("each Hawk config is within 5% of its Gated SSM twin's parameter count") {
  check_shipped_twins("hawk", model::Architecture::hawk, [](const model::ModelConfig& ssm, const model::ModelConfig& hawk) {
    CHECK((hawk.vocab == ssm.vocab && hawk.dim == ssm.dim && hawk.layers == ssm.layers));
  });
}
