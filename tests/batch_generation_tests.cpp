// model/batch_generator.h on the CPU, for each architecture: many prompts of different
// lengths decoded together give each prompt the tokens model::generate gives it alone
// (greedy and sampled, with causal answer starts, each row stopping on its own), the
// batched step's logits equal one row's, and the loop stops once every row is done.
#include <doctest/doctest.h>

#include "model/batch_decoder.h"
#include "model/batch_generator.h"
#include "model/gated_ssm/gated_ssm_lm.h"
#include "model/hawk/hawk_lm.h"
#include "model/transformer/transformer_lm.h"
#include "support/test_util.h"
#include "tests/support/small_model_config.h"

using namespace birdie;
using namespace birdie::testing;

namespace {

constexpr std::int32_t sg = 4;

model::ModelConfig config_of(model::Architecture architecture) {
  return small_model_config(architecture,
                            {.vocab = 37, .dim = 16, .ssm_state = 12, .hawk_state = 12, .heads = 2, .mlp_hidden = 24});
}

std::vector<model::GenerationRequest> requests_for(std::uint64_t seed) {
  RandomGenerator rng(seed);
  std::vector<model::GenerationRequest> requests;
  for (std::size_t prompt : {0, 3, 11, 1, 6}) {
    model::GenerationRequest r;
    for (std::size_t i = 0; i < prompt; ++i) r.prompt.push_back(5 + std::int32_t(rng.uniform_int(32)));
    if (prompt % 2 == 1)
      for (int i = 0; i < 1 + int(prompt % 3); ++i) r.answer_start.push_back(5 + std::int32_t(rng.uniform_int(32)));
    r.seed = 100 + requests.size();
    requests.push_back(r);
  }
  return requests;
}

void check_batch_equals_one_at_a_time(model::Architecture architecture) {
  const auto lm = model::make_language_model(config_of(architecture), DType::f32, Device::cpu, 21);
  const std::vector<model::GenerationRequest> requests = requests_for(4);
  model::SamplingOptions greedy;
  greedy.max_new_tokens = 9;
  greedy.eos = -1;
  model::SamplingOptions sampled = greedy;
  sampled.temperature = 1.0;
  sampled.top_k = 8;
  sampled.top_p = 0.9;
  for (model::SamplingOptions options : {greedy, sampled}) {
    CAPTURE(options.temperature);
    // A stop token the first row reaches early, so rows stop at different steps.
    options.seed = requests[0].seed;
    const auto free_run = model::generate(*lm, requests[0].prompt, sg, options, requests[0].answer_start);
    options.stop_token = free_run.at(2);
    const model::BatchGeneration batch = model::generate_batch(*lm, requests, sg, options, {true, 3});
    REQUIRE(batch.tokens.size() == requests.size());
    CHECK_FALSE(batch.graph);  // the CPU runs the plain launches
    std::size_t longest = 0;
    for (std::size_t b = 0; b < requests.size(); ++b) {
      CAPTURE(b);
      options.seed = requests[b].seed;
      const auto alone = model::generate(*lm, requests[b].prompt, sg, options, requests[b].answer_start);
      CHECK(batch.tokens[b] == alone);
      longest = std::max(longest, alone.size());
    }
    CHECK(batch.tokens[0].size() <= 3);
    CHECK(batch.steps >= std::int64_t(longest) - 1);
    CHECK(batch.steps <= std::int64_t(longest) - 1 + 3);  // stops within a check of the last row's end
  }
}

}  // namespace

TEST_CASE("batched generation equals one prompt at a time: Gated SSM") {
  check_batch_equals_one_at_a_time(model::Architecture::gated_ssm);
}

TEST_CASE("batched generation equals one prompt at a time: Hawk") {
  check_batch_equals_one_at_a_time(model::Architecture::hawk);
}

TEST_CASE("batched generation equals one prompt at a time: Transformer (caches of different lengths)") {
  check_batch_equals_one_at_a_time(model::Architecture::transformer);
}

// f32: the same sums up to their order (1e-5). bf16 compute: the batched Gated SSM step
// fuses the residual into the output projection (rounded once, not twice), so the two
// paths round differently: within bf16's compounding (2e-2); a wrong state is off by O(1).
TEST_CASE("a batched step's logits are each row's single-sequence logits") {
  for (auto [architecture, compute] : {std::pair{model::Architecture::gated_ssm, DType::f32},
                                       std::pair{model::Architecture::hawk, DType::f32},
                                       std::pair{model::Architecture::transformer, DType::f32},
                                       std::pair{model::Architecture::gated_ssm, DType::bf16},
                                       std::pair{model::Architecture::hawk, DType::bf16},
                                       std::pair{model::Architecture::transformer, DType::bf16}}) {
    CAPTURE(model::architecture_name(architecture));
    CAPTURE(dtype_name(compute));
    const double bound = compute == DType::bf16 ? 2e-2 : 1e-5;
    const auto lm = model::make_language_model(config_of(architecture), DType::f32, Device::cpu, 8, compute);
    const std::vector<model::GenerationRequest> requests = requests_for(9);
    std::vector<std::unique_ptr<model::Decoder>> rows, alone;
    std::vector<model::Decoder*> pointers;
    for (const auto& r : requests) {
      for (auto* list : {&rows, &alone}) {
        list->push_back(lm->decoder());
        list->back()->prefill(r.prompt, sg);
      }
      pointers.push_back(rows.back().get());
    }
    const auto batch = lm->batch_decoder(pointers, 4);
    rows.clear();  // the batch decoder holds copies
    const std::int64_t B = std::int64_t(requests.size());
    Tensor logits = Tensor::zeros({B, lm->config().vocab}, compute);
    for (int step = 0; step < 4; ++step) {
      std::vector<std::int32_t> tokens;
      for (std::int64_t b = 0; b < B; ++b) tokens.push_back(5 + std::int32_t((7 * b + 3 * step) % 30));
      batch->step(Tensor::from_values<std::int32_t>(tokens, {B}), logits);
      for (std::int64_t b = 0; b < B; ++b) {
        CAPTURE(step);
        CAPTURE(b);
        const Tensor want = alone[b]->step(tokens[b]);
        CHECK(relative_error(logits.slice(b, b + 1).reshape({lm->config().vocab}), want) < bound);
      }
    }
  }
}

// The causal tokens after <sg> read in the prefill's one pass, against feeding them with
// step(): the same logits (f32, up to summation order), and the decoder continues the same.
TEST_CASE("a prefill with a causal suffix equals the prefill then a step per suffix token") {
  for (auto architecture : {model::Architecture::gated_ssm, model::Architecture::hawk, model::Architecture::transformer}) {
    for (std::size_t prompt_length : {std::size_t(0), std::size_t(7)}) {
      CAPTURE(model::architecture_name(architecture));
      CAPTURE(prompt_length);
      const auto lm = model::make_language_model(config_of(architecture), DType::f32, Device::cpu, 12);
      std::vector<std::int32_t> prompt, suffix{7, 30, 9, 9, 12};
      for (std::size_t t = 0; t < prompt_length; ++t) prompt.push_back(5 + std::int32_t((11 * t) % 31));
      const auto one_pass = lm->decoder(), stepped = lm->decoder();
      const Tensor got = one_pass->prefill(prompt, sg, suffix);
      Tensor want = stepped->prefill(prompt, sg);
      for (std::int32_t token : suffix) want = stepped->step(token);
      CHECK(relative_error(got, want) < 1e-5);
      CHECK(relative_error(one_pass->step(21), stepped->step(21)) < 1e-5);
    }
  }
}

TEST_CASE("generate_batch: no tokens asked, and what it refuses") {
  const auto lm = model::make_language_model(config_of(model::Architecture::gated_ssm), DType::f32, Device::cpu, 1);
  const std::vector<model::GenerationRequest> requests = requests_for(2);
  model::SamplingOptions options;
  options.max_new_tokens = 0;
  const auto none = model::generate_batch(*lm, requests, sg, options);
  CHECK(none.tokens == std::vector<std::vector<std::int32_t>>(requests.size()));
  CHECK_THROWS_WITH_AS(model::generate_batch(*lm, {}, sg, options), doctest::Contains("no requests"), Error);
  options.max_new_tokens = 4;
  CHECK_THROWS_WITH_AS(model::generate_batch(*lm, requests, sg, options, {true, 0}), doctest::Contains("check_every"),
                       Error);
}
