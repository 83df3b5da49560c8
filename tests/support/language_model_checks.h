// Checks every architecture's tests share (model/language_model.h): which logits a token
// reaches, the full pass a decoder must reproduce, and the comparison with a PyTorch twin's
// fixture (scripts/*_twin.py write them).
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/gradients_final.h"
#include "autograd/tape.h"
#include "model/checkpoint.h"
#include "model/config_file.h"
#include "model/language_model.h"
#include "test_util.h"

namespace birdie::testing {

// The whole model's gradient (backward of its loss on one batch) against central
// differences of that loss in every parameter (f64 models): "" or the first mismatch.
inline std::string whole_model_gradient_mismatch(model::LanguageModel& lm, const Tensor& tokens, const Tensor& targets,
                                                 const Tensor& reset) {
  auto loss = [&] { return lm.loss(tokens, targets, reset).loss; };
  lm.parameters().zero_grad();
  autograd::backward(loss());
  return first_gradient_mismatch([&] { return loss().item(); }, lm.parameters().values().data<double>(),
                                 lm.parameters().gradients().to_vector<double>(), 1e-6, 1e-8, 1e-6);
}

// Logits rows (time steps) of one row [1, T] that change when token `poke` changes.
inline std::vector<bool> changed_logit_rows(const model::LanguageModel& lm, std::vector<std::int32_t> tokens,
                                            const std::vector<std::int32_t>& reset, std::size_t poke) {
  const auto T = static_cast<std::int64_t>(tokens.size());
  autograd::NoGradGuard no_grad;
  auto run = [&] {
    return lm.logits(Tensor::from_values<std::int32_t>(tokens, {1, T}), Tensor::from_values<std::int32_t>(reset, {1, T}))
        .to_vector<double>();
  };
  const auto before = run();
  tokens[poke] = tokens[poke] == 9 ? 10 : 9;
  const auto after = run();
  const std::int64_t V = lm.config().vocab;
  std::vector<bool> changed(T, false);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t v = 0; v < V; ++v) changed[t] = changed[t] || before[t * V + v] != after[t * V + v];
  return changed;
}

// Full-pass logits for prompt ‖ <sg> ‖ continuation as one sample (the prompt
// bidirectional, the rest causal), rows from <sg> on: what a decoder's prefill and steps
// must give.
inline Tensor full_pass_logits(const model::LanguageModel& lm, const std::vector<std::int32_t>& prompt,
                               std::int32_t start_generating, const std::vector<std::int32_t>& continuation) {
  std::vector<std::int32_t> tokens = prompt, reset(prompt.size(), 0);
  tokens.push_back(start_generating);
  reset.push_back(2);
  for (auto t : continuation) {
    tokens.push_back(t);
    reset.push_back(2);
  }
  reset[0] |= 1;
  const auto T = static_cast<std::int64_t>(tokens.size());
  autograd::NoGradGuard no_grad;
  Tensor logits = lm.logits(Tensor::from_values<std::int32_t>(tokens, {1, T}),
                            Tensor::from_values<std::int32_t>(reset, {1, T}));
  return logits.slice(static_cast<std::int64_t>(prompt.size()), T);
}

// A tiny f64 model of `config` on a packed row with resets: activation recompute per block
// gives bitwise the same gradients with a shorter tape, and in both passes each block's
// gradients are marked final (autograd/gradients_final.h) last block first, over exactly
// its parameters, and do not change after the mark.
inline void check_recompute_and_gradient_marks(const model::ModelConfig& config) {
  const Tensor tokens = Tensor::from_values<std::int32_t>({1, 2, 3, 4, 5, 6, 4, 2}, {1, 8});
  const Tensor targets = Tensor::from_values<std::int32_t>({-1, -1, -1, 5, 6, 2, 2, 1}, {1, 8});
  const Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 0, 2, 2, 2, 3, 2}, {1, 8});
  std::vector<double> gradients[2];
  std::size_t tape_length[2];
  for (int recompute : {0, 1}) {
    CAPTURE(recompute);
    const auto lm = model::make_language_model(config, DType::f64, Device::cpu, 5);
    lm->set_recompute_blocks(recompute == 1);
    lm->parameters().zero_grad();
    struct Mark {
      autograd::ParameterRange range;
      std::vector<double> gradient;  // the range's gradient when it was marked
    };
    std::vector<Mark> marks;
    const Tensor loss = lm->loss(tokens, targets, reset).loss;
    tape_length[recompute] = autograd::tape().size();
    {
      const autograd::GradientsFinalListener listener([&](autograd::ParameterRange r) {
        marks.push_back({r, lm->parameters().gradients().slice(r.begin, r.end).to_vector<double>()});
      });
      autograd::backward(loss);
    }
    const std::int64_t L = config.layers;
    REQUIRE(marks.size() == std::size_t(L));
    for (std::int64_t l = 0; l < L; ++l) {
      const auto expected = lm->parameters().range_of(model::block_prefix(l));
      const Mark& m = marks[std::size_t(L - 1 - l)];
      CHECK(m.range.begin == expected.begin);
      CHECK(m.range.end == expected.end);
      CHECK(m.gradient == lm->parameters().gradients().slice(m.range.begin, m.range.end).to_vector<double>());
      CHECK(std::any_of(m.gradient.begin(), m.gradient.end(), [](double g) { return g != 0; }));
    }
    gradients[recompute] = lm->parameters().gradients().to_vector<double>();
  }
  CHECK(tape_length[1] < tape_length[0]);
  CHECK(gradients[0] == gradients[1]);
}

// The model of a twin fixture (folder with model.safetensors and expected.safetensors)
// against the twin's logits, loss and every parameter gradient, in f32 within 1e-4.
inline void check_against_twin(const std::filesystem::path& fixture, model::Architecture architecture) {
  const auto weights = model::read_safetensors(fixture / "model.safetensors");
  const auto config = model::model_config_from_json(weights.metadata.at("config"), fixture.string());
  REQUIRE(config.architecture == architecture);
  const auto lm = model::make_language_model(config, DType::f32, Device::cpu, 0);
  model::load_weights(fixture / "model.safetensors", *lm);
  const auto expected = model::read_safetensors(fixture / "expected.safetensors");

  lm->parameters().zero_grad();
  const Tensor logits = lm->logits(expected.at("batch.tokens"), expected.at("batch.reset"));
  const auto loss = autograd::cross_entropy(logits, expected.at("batch.targets").reshape({-1}));
  autograd::backward(loss.loss);

  CHECK(relative_error(logits, expected.at("expected.logits")) < 1e-4);
  CHECK(loss.loss.item() == doctest::Approx(expected.at("expected.loss").item()).epsilon(1e-5));
  double worst = 0;
  for (const auto& spec : lm->parameters().specs()) {
    CAPTURE(spec.name);
    const double error = relative_error(lm->parameters()[spec.name].grad(), expected.at("expected.grad." + spec.name));
    worst = std::max(worst, error);
    CHECK(error < 1e-4);
  }
  MESSAGE(std::string(model::architecture_name(architecture)), " twin: logits relative error ",
          relative_error(logits, expected.at("expected.logits")), ", loss ", loss.loss.item(), " against ",
          expected.at("expected.loss").item(), ", worst gradient relative error ", worst);
}

}  // namespace birdie::testing
