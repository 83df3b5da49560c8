// model/generator: recurrent decoding reproduces the full forward pass (bidirectional
// prefix included), and the sampling options behave as documented.
#include <doctest/doctest.h>

#include "model/gated_ssm/gated_ssm_decoder.h"
#include "model/generator.h"
#include "support/language_model_checks.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;

namespace {
constexpr std::int32_t sg = 4;

}  // namespace

namespace {
// Prefill + 6 steps against the full pass, for every bidirectional layout, with and
// without a prompt; the model computes in `compute` (f32, or bf16 over f32 masters).
void check_incremental_matches_full_pass(DType compute, double bound) {
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::all,
                      model::BidirectionalLayers::none}) {
    for (std::size_t prompt_length : {std::size_t(0), std::size_t(9)}) {
      CAPTURE(int(layers));
      CAPTURE(prompt_length);
      model::ModelConfig config{40, 16, 24, 3, layers};
      model::GatedSsmLm lm(config, DType::f32, Device::cpu, 7, compute);
      RandomGenerator rng(8);
      std::vector<std::int32_t> prompt(prompt_length);
      for (auto& t : prompt) t = 5 + std::int32_t(rng.uniform_int(35));
      model::GatedSsmDecoder generator(lm);
      std::vector<Tensor> rows{generator.prefill(prompt, sg)};
      std::vector<std::int32_t> continuation;
      for (int i = 0; i < 6; ++i) {
        continuation.push_back(5 + std::int32_t(rng.uniform_int(35)));
        rows.push_back(generator.step(continuation.back()));
      }
      Tensor full = full_pass_logits(lm, prompt, sg, continuation);
      REQUIRE(full.dim(0) == 7);
      for (std::int64_t i = 0; i < 7; ++i)
        CHECK(relative_error(rows[i], full.slice(i, i + 1).reshape({config.vocab})) < bound);
    }
  }
}
}  // namespace

TEST_CASE("incremental decoding gives the logits of a full forward pass (f32, 1e-5)") {
  check_incremental_matches_full_pass(DType::f32, 1e-5);
}

// The two paths round the same activations to bf16; they differ only in the fp32
// summation order inside the scans, which can flip a rounding.
TEST_CASE("the same with bf16 compute over fp32 master weights (1e-2)") {
  check_incremental_matches_full_pass(DType::bf16, 1e-2);
}

TEST_CASE("sampling: greedy, top-k, top-p, temperature and stop tokens") {
  Tensor logits = Tensor::from_values<float>({0.1f, 2.0f, -1.0f, 1.9f, 0.0f}, {5});
  RandomGenerator rng(1);
  model::SamplingOptions greedy;
  CHECK(model::sample_token(logits, greedy, rng) == 1);
  model::SamplingOptions top1;
  top1.temperature = 1.0;
  top1.top_k = 1;
  CHECK(model::sample_token(logits, top1, rng) == 1);
  model::SamplingOptions top2;
  top2.temperature = 5.0;
  top2.top_k = 2;
  int counts[5] = {};
  for (int i = 0; i < 400; ++i) ++counts[model::sample_token(logits, top2, rng)];
  CHECK(counts[1] + counts[3] == 400);
  CHECK(counts[3] > 100);  // both survive the cut and get sampled
  model::SamplingOptions nucleus;
  nucleus.temperature = 1.0;
  nucleus.top_p = 0.01;  // the nucleus is the single most likely token
  for (int i = 0; i < 50; ++i) CHECK(model::sample_token(logits, nucleus, rng) == 1);

  model::ModelConfig config{12, 8, 8, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 3);
  model::SamplingOptions options;
  options.max_new_tokens = 20;
  const std::vector<std::int32_t> prompt{5, 6, 7};
  const auto free_run = model::generate(lm, prompt, sg, options);
  CHECK(free_run.size() <= 20);
  options.stop_token = free_run.front();
  CHECK(model::generate(lm, prompt, sg, options).size() == 1);  // stops right after it
  model::SamplingOptions sampled;
  sampled.temperature = 1.0;
  sampled.seed = 11;
  CHECK(model::generate(lm, prompt, sg, sampled) == model::generate(lm, prompt, sg, sampled));
}

TEST_CASE("an answer start is fed causally: greedy decoding continues it as if it had generated it") {
  model::ModelConfig config{12, 8, 8, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 5);
  model::SamplingOptions greedy;
  greedy.max_new_tokens = 8;
  greedy.eos = -1;  // never stops early: the runs keep their length
  const std::vector<std::int32_t> prompt{5, 6, 7};
  const auto whole = model::generate(lm, prompt, sg, greedy);
  REQUIRE(whole.size() == 8);
  const std::vector<std::int32_t> start(whole.begin(), whole.begin() + 3);
  greedy.max_new_tokens = 5;
  const auto rest = model::generate(lm, prompt, sg, greedy, start);
  CHECK(rest == std::vector<std::int32_t>(whole.begin() + 3, whole.end()));
}
