// model/transformer/: the Transformer baseline LM: parameter names, count and decay
// groups; a finite-difference gradient check of a whole tiny model in f64; activation
// recompute; which logits a token reaches (segments, causal suffixes, bidirectional
// prompts in the prefix layers); the KV-cache decoder against the full pass; the copy task;
// the PyTorch twin; checkpoints; the shipped configs against their Gated SSM twins.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <omp.h>
#include <unistd.h>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "model/generator.h"
#include "model/transformer/transformer_decoder.h"
#include "model/transformer/transformer_lm.h"
#include "support/copy_task_training.h"
#include "support/language_model_checks.h"
#include "support/model_test_support.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace fs = std::filesystem;

namespace {

model::ModelConfig transformer_config(std::int64_t vocab, std::int64_t dim, std::int64_t heads,
                                      std::int64_t mlp_hidden, std::int64_t layers,
                                      model::BidirectionalLayers bidirectional = model::BidirectionalLayers::alternate) {
  model::ModelConfig c = architecture_config(model::Architecture::transformer, vocab, dim, layers, bidirectional);
  c.heads = heads;
  c.mlp_hidden = mlp_hidden;
  return c;
}

constexpr std::int32_t sg = 4;

}  // namespace

TEST_CASE("transformer: parameter count matches the formula, the registry and the factory") {
  for (bool tied : {false, true}) {
    CAPTURE(tied);
    model::ModelConfig config = transformer_config(1000, 48, 4, 80, 3);
    config.tie_embeddings = tied;
    model::TransformerLm lm(config, DType::f32, Device::cpu, 1);
    const std::int64_t V = 1000, D = 48, M = 80, L = 3;
    CHECK(config.block_parameter_count() == 2 * D + 4 * D * D + 3 * M * D);
    CHECK(config.parameter_count() == V * D + L * (2 * D + 4 * D * D + 3 * M * D) + D + (tied ? 0 : V * D));
    CHECK(lm.parameters().count() == config.parameter_count());
    CHECK(lm.parameters().contains("blocks.2.attention.q_proj.weight"));
    CHECK(lm.parameters().contains("blocks.2.attention.out_proj.weight"));
    CHECK(lm.parameters().contains("blocks.0.mlp.out_proj.weight"));
    CHECK(lm.parameters().contains("head.weight") == !tied);
    // Each block's parameters are one contiguous range of the block's size.
    for (std::int64_t l = 0; l < L; ++l) {
      const auto range = lm.parameters().range_of("blocks." + std::to_string(l) + ".");
      CHECK(range.end - range.begin == config.block_parameter_count());
    }
    const auto made = model::make_language_model(config, DType::f32, Device::cpu, 1);
    CHECK(dynamic_cast<model::TransformerLm*>(made.get()) != nullptr);
    CHECK(made->parameters().count() == config.parameter_count());
  }
  model::ModelConfig bad = transformer_config(10, 12, 4, 8, 1);  // heads of width 3
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("model.heads"), Error);
}

TEST_CASE("transformer: initialization and decay groups") {
  model::ModelConfig config = transformer_config(500, 64, 4, 96, 8);
  model::TransformerLm lm(config, DType::f64, Device::cpu, 3);
  auto std_of = [&](const std::string& name) { return root_mean_square(lm.parameters(), name); };
  const double truncation = truncated_normal_std;
  CHECK(std_of("blocks.0.attention.q_proj.weight") == doctest::Approx(truncation / 8.0).epsilon(0.03));
  CHECK(std_of("blocks.3.attention.out_proj.weight") == doctest::Approx(truncation / 8.0 / 4.0).epsilon(0.03));
  CHECK(std_of("blocks.5.mlp.out_proj.weight") ==
        doctest::Approx(truncation / std::sqrt(96.0) / 4.0).epsilon(0.03));
  CHECK(lm.parameters()["blocks.1.attention_norm.weight"].item(5) == 1.0);
  CHECK(lm.parameters()["blocks.1.mlp_norm.weight"].item(5) == 1.0);

  auto& p = lm.parameters();
  const std::vector<bool> decays = decaying_elements(p);
  CHECK_FALSE(decays[p.offset_of("blocks.2.attention_norm.weight")]);
  CHECK_FALSE(decays[p.offset_of("blocks.2.mlp_norm.weight")]);
  CHECK_FALSE(decays[p.offset_of("final_norm.weight")]);
  CHECK(decays[p.offset_of("blocks.2.attention.v_proj.weight")]);
  CHECK(decays[p.offset_of("blocks.2.mlp.gate_proj.weight")]);
  CHECK(decays[p.offset_of("head.weight")]);
}

TEST_CASE("transformer: gradient of a whole tiny model (prefix and causal blocks, packed rows) in f64") {
  model::ModelConfig config = transformer_config(7, 4, 2, 6, 2);
  model::TransformerLm lm(config, DType::f64, Device::cpu, 5);
  Tensor tokens = Tensor::from_values<std::int32_t>({1, 2, 3, 4, 5, 6, 4, 2, 1, 0, 3, 3, 4, 5, 6, 1, 2, 4, 5, 0}, {2, 10});
  Tensor targets =
      Tensor::from_values<std::int32_t>({-1, -1, -1, 5, 6, -1, 2, 1, -1, -1, -1, -1, 5, 6, 2, -1, -1, 5, 3, -1}, {2, 10});
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 1, 0, 2, 2, 1, 1, 0, 2, 2, 2, 3, 1, 2, 2, 1}, {2, 10});
  const std::string mismatch = whole_model_gradient_mismatch(lm, tokens, targets, reset);
  CHECK_MESSAGE(mismatch.empty(), mismatch);
}

TEST_CASE("transformer: activation recompute gives bitwise the same gradients; each block's gradients final when marked") {
  check_recompute_and_gradient_marks(transformer_config(9, 8, 2, 12, 3));
}

TEST_CASE("transformer: segments are isolated, suffixes causal, prompts bidirectional only in prefix blocks") {
  // Sample A: prompt 0-2, suffix 3-5; sample B: prompt 6-8, suffix 9-11; padding 12-13.
  const std::vector<std::int32_t> tokens{5, 6, 7, 4, 8, 9, 10, 11, 5, 4, 6, 7, 0, 0};
  const std::vector<std::int32_t> reset{1, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 2, 1, 0};
  const int segment[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2};
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::all,
                      model::BidirectionalLayers::none}) {
    CAPTURE(int(layers));
    model::TransformerLm lm(transformer_config(12, 8, 2, 12, 3, layers), DType::f64, Device::cpu, 2);
    for (std::size_t poke : {0u, 1u, 4u, 7u, 8u, 10u, 13u}) {
      CAPTURE(poke);
      const auto changed = changed_logit_rows(lm, tokens, reset, poke);
      for (std::size_t t = 0; t < tokens.size(); ++t) {
        CAPTURE(t);
        if (segment[t] != segment[poke]) CHECK_FALSE(changed[t]);
        // Within its segment a token reaches itself and every later token ...
        else if (t >= poke) CHECK(changed[t]);
        // ... and an earlier one only when both are prompt tokens and a block is a prefix block.
        else CHECK(changed[t] == (reset[poke] != 2 && layers != model::BidirectionalLayers::none));
      }
    }
  }
}

namespace {
// Prefill + `steps` steps against the full pass; returns the worst relative error.
double check_decoder_matches_full_pass(model::BidirectionalLayers layers, std::size_t prompt_length, int steps,
                                       DType compute, double bound) {
  CAPTURE(int(layers));
  CAPTURE(prompt_length);
  model::TransformerLm lm(transformer_config(40, 16, 2, 24, 3, layers), DType::f32, Device::cpu, 7, compute);
  double worst = 0;
  for (const double error : decoder_errors(lm, prompt_length, steps, sg)) {
    CHECK(error < bound);
    worst = std::max(worst, error);
  }
  return worst;
}
}  // namespace

TEST_CASE("transformer: KV-cache decoding gives the logits of a full forward pass (f32, 1e-5)") {
  double worst = 0;
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::all,
                      model::BidirectionalLayers::none})
    for (std::size_t prompt_length : {std::size_t(0), std::size_t(1), std::size_t(9)})
      worst = std::max(worst, check_decoder_matches_full_pass(layers, prompt_length, 6, DType::f32, 1e-5));
  MESSAGE("worst relative error of a decoded row (f32): ", worst);
}

TEST_CASE("transformer: the cache grows past its first capacity and stays exact") {
  // prompt ‖ <sg> = 61 tokens fill the first 64 rows; the steps double the capacity.
  check_decoder_matches_full_pass(model::BidirectionalLayers::alternate, 60, 10, DType::f32, 1e-5);
  model::TransformerLm lm(transformer_config(40, 16, 2, 24, 2), DType::f32, Device::cpu, 7);
  model::TransformerDecoder decoder(lm);
  decoder.prefill(std::vector<std::int32_t>(60, 6), sg);
  CHECK(decoder.capacity() == 64);
  for (int i = 0; i < 10; ++i) decoder.step(7);
  CHECK(decoder.length() == 71);
  CHECK(decoder.capacity() == 128);
}

// Both paths round the same activations to bf16 and differ in summation order only.
TEST_CASE("transformer: the same with bf16 compute over fp32 master weights (2e-2)") {
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::none})
    check_decoder_matches_full_pass(layers, 9, 6, DType::bf16, 2e-2);
}

TEST_CASE("transformer: greedy generation runs through the decoder") {
  model::TransformerLm lm(transformer_config(12, 8, 2, 8, 2), DType::f32, Device::cpu, 3);
  model::SamplingOptions greedy;
  greedy.max_new_tokens = 8;
  greedy.eos = -1;
  const std::vector<std::int32_t> prompt{5, 6, 7};
  const auto out = model::generate(lm, prompt, sg, greedy);
  CHECK(out.size() == 8);
  CHECK(out == model::generate(lm, prompt, sg, greedy));
}

// On one thread: the model is so small that starting OpenMP's threads costs more than the
// work, many times more on a loaded machine.
TEST_CASE("transformer: a tiny Transformer LM learns to copy: loss falls from chance to below 0.5 in 250 steps") {
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto begin = std::chrono::steady_clock::now();
  data::CopyTaskConfig task;  // strings of 4-8 symbols from 8; chance loss ln 8 = 2.08
  model::ModelConfig config = transformer_config(task.first_symbol + task.symbols, 32, 2, 64, 2);
  model::TransformerLm lm(config, DType::f32, Device::cpu, 1);
  RandomGenerator rng(1, 1);
  const auto losses = testing::train_on_copy_task(lm, task, rng, 250, 5e-3, 50.0);
  const double last = testing::mean_of_last_10(losses);
  // Token accuracy on a fresh batch.
  const double accuracy = testing::copy_task_accuracy(lm, data::make_copy_task_batch(task, rng));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  MESSAGE("copy task (transformer): first loss ", losses.front(), ", mean of the last 10 ", last,
          ", token accuracy ", accuracy, ", ", seconds, " s");
  CHECK(losses.front() > 2.0);
  CHECK(last < 0.5);
  CHECK(accuracy > 0.8);
  omp_set_num_threads(threads_before);
}

TEST_CASE("transformer: a checkpoint round trip restores the model exactly") {
  const fs::path dir = fs::temp_directory_path() / ("birdie_transformer_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  model::ModelConfig config = transformer_config(12, 8, 2, 12, 2);
  config.rope_base = 500;
  model::TransformerLm lm(config, DType::f32, Device::cpu, 1);
  model::TrainingState state;
  state.step = 7;
  const fs::path saved = model::save_checkpoint(dir, lm, nullptr, state, 0);
  const model::ModelConfig read = model::read_checkpoint_config(saved);
  CHECK(read.architecture == model::Architecture::transformer);
  CHECK(read.heads == 2);
  CHECK(read.mlp_hidden == 12);
  CHECK(read.rope_base == 500);
  const auto restored = model::make_language_model(read, DType::f32, Device::cpu, 999);
  CHECK(model::load_checkpoint(saved, *restored, nullptr).step == 7);
  Tensor tokens = Tensor::from_values<std::int32_t>({5, 6, 7, 4, 8, 9, 5, 4, 6, 7}, {2, 5});
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 2, 2, 2, 1, 2, 2, 1, 0}, {2, 5});
  autograd::NoGradGuard no_grad;
  CHECK(max_abs_difference(lm.logits(tokens, reset), restored->logits(tokens, reset)) == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("transformer: each shipped config is within 5% of its Gated SSM twin's parameter count") {
  check_shipped_twins("transformer", model::Architecture::transformer,
                      [](const model::ModelConfig& ssm, const model::ModelConfig& transformer) {
                        CHECK_NOTHROW(transformer.validate());
                        CHECK(transformer.vocab == ssm.vocab);
                      });
}
