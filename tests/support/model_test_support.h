// What the architectures' own test suites (tests/model_tests.cpp,
// tests/hawk_model_tests.cpp, tests/transformer_model_tests.cpp) measure alike: a
// parameter's spread and weight-decay groups, a decoder against the full pass, and the
// shipped configurations against their Gated SSM twins.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "engine/random.h"
#include "model/config_file.h"
#include "model/language_model.h"
#include "language_model_checks.h"
#include "test_util.h"

namespace birdie::testing {

// A configuration of `architecture` with the keys every architecture reads; the
// architecture's own keys left at their defaults.
inline model::ModelConfig architecture_config(model::Architecture architecture, std::int64_t vocab, std::int64_t dim,
                                              std::int64_t layers, model::BidirectionalLayers bidirectional) {
  return {.vocab = vocab, .dim = dim, .layers = layers, .bidirectional = bidirectional, .architecture = architecture};
}

// The standard deviation of a unit normal truncated to ±2 (model/initialization.h).
constexpr double truncated_normal_std = 0.879626;

// The root mean square of parameter `name` (its standard deviation around a zero mean).
inline double root_mean_square(const autograd::ParameterSet& parameters, const std::string& name) {
  const auto v = parameters[name].to_vector<double>();
  double sq = 0;
  for (double x : v) sq += x * x;
  return std::sqrt(sq / double(v.size()));
}

// Whether each element of the flat parameter buffer is under weight decay.
inline std::vector<bool> decaying_elements(const autograd::ParameterSet& parameters) {
  std::vector<bool> decays(parameters.count(), false);
  for (const auto& s : parameters.decay_segments())
    for (std::int64_t i = s.offset; i < s.offset + s.length; ++i) decays[i] = s.decay;
  return decays;
}

// A decoder of `lm` on a random prompt of `prompt_length` tokens (ids 5 to 39), then
// `steps` random tokens: the relative error of each row of logits it returns against the
// full pass (full_pass_logits), the prefill's first.
inline std::vector<double> decoder_errors(const model::LanguageModel& lm, std::size_t prompt_length, int steps,
                                          std::int32_t start_generating) {
  RandomGenerator rng(8);
  std::vector<std::int32_t> prompt(prompt_length);
  for (auto& t : prompt) t = 5 + std::int32_t(rng.uniform_int(35));
  const auto decoder = lm.decoder();
  std::vector<Tensor> rows{decoder->prefill(prompt, start_generating)};
  std::vector<std::int32_t> continuation;
  for (int i = 0; i < steps; ++i) {
    continuation.push_back(5 + std::int32_t(rng.uniform_int(35)));
    rows.push_back(decoder->step(continuation.back()));
  }
  const Tensor full = full_pass_logits(lm, prompt, start_generating, continuation);
  REQUIRE(full.dim(0) == steps + 1);
  std::vector<double> errors;
  for (std::int64_t i = 0; i <= steps; ++i)
    errors.push_back(relative_error(rows[i], full.slice(i, i + 1).reshape({lm.config().vocab})));
  return errors;
}

// Each shipped configuration configs/model/PREFIX-NAME.toml (NAME: tiny, small, base,
// paper) of `architecture` against its Gated SSM twin NAME.toml: `check` on the pair,
// then parameter counts within 5%.
inline void check_shipped_twins(const std::string& prefix, model::Architecture architecture,
                                const std::function<void(const model::ModelConfig& ssm,
                                                         const model::ModelConfig& twin)>& check) {
  const std::filesystem::path dir = std::filesystem::path(BIRDIE_SOURCE_DIR) / "configs" / "model";
  for (const std::string name : {"tiny", "small", "base", "paper"}) {
    CAPTURE(name);
    const auto ssm = model::load_model_config_toml(dir / (name + ".toml"));
    const auto twin = model::load_model_config_toml(dir / (prefix + "-" + name + ".toml"));
    CHECK(ssm.architecture == model::Architecture::gated_ssm);
    CHECK(twin.architecture == architecture);
    check(ssm, twin);
    const double ratio = double(twin.parameter_count()) / double(ssm.parameter_count());
    MESSAGE(name, ": Gated SSM ", ssm.parameter_count(), ", ", prefix, " ", twin.parameter_count(), " (", ratio, ")");
    CHECK(std::abs(ratio - 1.0) < 0.05);
  }
}

}  // namespace birdie::testing
