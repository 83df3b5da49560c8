// model/: the Gated SSM LM's parameters (names, count, decay groups, initialization) and
// a finite-difference gradient check of a whole tiny model in f64.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "support/language_model_checks.h"
#include "support/model_test_support.h"
#include "support/small_model_config.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;

TEST_CASE("parameter count matches the formula and the registry") {
  for (bool tied : {false, true}) {
    model::ModelConfig config{1000, 48, 96, 3};
    config.tie_embeddings = tied;
    model::GatedSsmLm lm(config, DType::f32, Device::cpu, 1);
    const std::int64_t V = 1000, D = 48, N = 96, L = 3;
    CHECK(config.parameter_count() == V * D + L * (D + 5 * N * D + 4 * N) + D + (tied ? 0 : V * D));
    CHECK(lm.parameters().count() == config.parameter_count());
    CHECK(lm.parameters().contains("blocks.2.in_proj.weight"));
    CHECK(lm.parameters().contains("head.weight") == !tied);
  }
  // The paper's configuration: about 1.4B parameters.
  model::ModelConfig paper{32000, 2048, 2560, 48};
  CHECK(paper.parameter_count() > 1.3e9);
  CHECK(paper.parameter_count() < 1.45e9);
}

TEST_CASE("invalid configurations are refused, naming the field") {
  model::ModelConfig odd{100, 8, 7, 2};
  CHECK_THROWS_WITH_AS(odd.validate(), doctest::Contains("model.state must be even"), Error);
  odd.bidirectional = model::BidirectionalLayers::none;
  CHECK_NOTHROW(odd.validate());
  model::ModelConfig empty{0, 8, 8, 2};
  CHECK_THROWS_WITH_AS(empty.validate(), doctest::Contains("model.vocab must be positive"), Error);
  CHECK_THROWS_WITH_AS(model::parse_bidirectional_layers("some"),
                       doctest::Contains("model.bidirectional = 'some'"), Error);
  model::ModelConfig alternate{10, 4, 4, 3};
  CHECK(alternate.is_bidirectional(0));
  CHECK_FALSE(alternate.is_bidirectional(1));
  CHECK(alternate.is_bidirectional(2));
}

TEST_CASE("initialization: std 1/sqrt(fan_in), scaled output projections, unit norms, zero biases") {
  model::ModelConfig config{500, 64, 128, 8};
  model::GatedSsmLm lm(config, DType::f64, Device::cpu, 3);
  auto std_of = [&](const char* name) { return root_mean_square(lm.parameters(), name); };
  const double truncation = truncated_normal_std;
  CHECK(std_of("blocks.0.in_proj.weight") == doctest::Approx(truncation / 8.0).epsilon(0.03));
  CHECK(std_of("blocks.5.out_proj.weight") == doctest::Approx(truncation / std::sqrt(128.0) / 4.0).epsilon(0.03));
  CHECK(std_of("embedding.weight") == doctest::Approx(truncation).epsilon(0.03));
  CHECK(lm.parameters()["blocks.1.norm.weight"].item(5) == 1.0);
  CHECK(lm.parameters()["blocks.1.in_proj.bias"].item(5) == 0.0);
  // Same seed, same numbers, whatever the dtype.
  model::GatedSsmLm again(config, DType::f32, Device::cpu, 3);
  CHECK(again.parameters()["head.weight"].item(17) == doctest::Approx(lm.parameters()["head.weight"].item(17)));
}

TEST_CASE("no weight decay on the forget gate, biases and norms") {
  model::ModelConfig config{10, 4, 6, 1};
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 1);
  auto& p = lm.parameters();
  const std::vector<bool> decays = decaying_elements(p);
  const std::int64_t w_in = p.offset_of("blocks.0.in_proj.weight");
  const std::int64_t D = 4, N = 6;
  CHECK(decays[w_in + 0]);                  // W_i
  CHECK_FALSE(decays[w_in + N * D]);        // first element of W_f
  CHECK_FALSE(decays[w_in + 2 * N * D - 1]);  // last element of W_f
  CHECK(decays[w_in + 2 * N * D]);          // W_z
  CHECK_FALSE(decays[p.offset_of("blocks.0.in_proj.bias")]);
  CHECK_FALSE(decays[p.offset_of("final_norm.weight")]);
  CHECK(decays[p.offset_of("head.weight")]);
}

TEST_CASE("gradient of a whole tiny model (two blocks, packed row with resets) in f64") {
  model::ModelConfig config{7, 3, 4, 2};
  model::GatedSsmLm lm(config, DType::f64, Device::cpu, 5);
  Tensor tokens = Tensor::from_values<std::int32_t>({1, 2, 3, 4, 5, 6, 4, 2, 1, 0}, {1, 10});
  Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, -1, 5, 6, -1, 2, 1, -1, -1}, {1, 10});
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 1, 0, 2, 2, 1}, {1, 10});
  const std::string mismatch = whole_model_gradient_mismatch(lm, tokens, targets, reset);
  CHECK_MESSAGE(mismatch.empty(), mismatch);
}

TEST_CASE("a training step hands every gradient on without copying it: each architecture, fp32 and bf16 compute") {
  const Tensor tokens = Tensor::from_values<std::int32_t>({1, 2, 3, 4, 5, 6, 4, 2, 1, 0, 7, 8}, {2, 6});
  const Tensor targets = Tensor::from_values<std::int32_t>({2, 3, 4, -1, 6, 4, 2, 1, 0, 7, 8, -1}, {2, 6});
  const Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 1, 0, 0, 1, 0, 2, 2, 1, 0}, {2, 6});
  for (auto architecture : {model::Architecture::gated_ssm, model::Architecture::hawk, model::Architecture::transformer})
    for (DType compute : {DType::f32, DType::bf16}) {
      CAPTURE(model::architecture_name(architecture));
      CAPTURE(dtype_name(compute));
      const auto lm = model::make_language_model(
          small_model_config(architecture, {.vocab = 11, .dim = 8, .ssm_state = 6, .hawk_state = 8, .heads = 2,
                                            .mlp_hidden = 12}),
          DType::f32, Device::cpu, 3, compute);
      const std::uint64_t before = autograd::gradient_copies();
      lm->parameters().zero_grad();
      autograd::backward(lm->loss(tokens, targets, reset).loss);
      CHECK(autograd::gradient_copies() == before);
    }
}

TEST_CASE("activation recompute gives bitwise the same gradients; each block's gradients are final when marked") {
  check_recompute_and_gradient_marks(model::ModelConfig{9, 4, 6, 3});
}

TEST_CASE("whole model: segments are isolated, suffixes causal, prefixes bidirectional") {
  // Sample A: prompt 0-2, suffix 3-5; sample B: prompt 6-8, suffix 9-11; padding 12-13.
  const std::vector<std::int32_t> tokens{5, 6, 7, 4, 8, 9, 10, 11, 5, 4, 6, 7, 0, 0};
  const std::vector<std::int32_t> reset{1, 0, 0, 2, 2, 2, 1, 0, 0, 2, 2, 2, 1, 0};
  const int segment[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2};
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::none}) {
    CAPTURE(int(layers));
    model::GatedSsmLm lm({12, 8, 10, 3, layers}, DType::f64, Device::cpu, 2);
    for (std::size_t poke : {1u, 4u, 7u, 10u, 13u}) {
      CAPTURE(poke);
      const auto changed = changed_logit_rows(lm, tokens, reset, poke);
      for (std::size_t t = 0; t < tokens.size(); ++t)
        if (segment[t] != segment[poke]) CHECK_MESSAGE(!changed[t], "step ", t);
      // A label token never reaches an earlier position.
      if (reset[poke] == 2)
        for (std::size_t t = 0; t < poke; ++t) CHECK_MESSAGE(!changed[t], "step ", t);
    }
    // The last prompt token of sample B reaches the earlier prompt tokens only through the
    // bidirectional blocks.
    const auto changed = changed_logit_rows(lm, tokens, reset, 8);
    CHECK(changed[6] == (layers != model::BidirectionalLayers::none));
    CHECK(changed[7] == (layers != model::BidirectionalLayers::none));
  }
}
