// Generation with any language model's decoder (model/language_model.h): sampling options,
// token sampling and the generation loop.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/random.h"
#include "kernels/sampling.h"
#include "model/language_model.h"

namespace birdie::model {

struct SamplingOptions {
  std::int64_t max_new_tokens = 64;
  double temperature = 0.0;  // 0: greedy (argmax)
  std::int64_t top_k = 0;    // keep the k most likely tokens; 0: all
  double top_p = 1.0;        // keep the smallest set with this much probability; 1: all
  std::int32_t eos = 3;      // <eos> (docs/method.md §1): generation stops after it
  std::optional<std::int32_t> stop_token;  // another token that stops generation
  std::uint64_t seed = 0;

  kernels::SamplingRule rule() const { return {temperature, top_k, top_p}; }
};

// Picks a token from logits [V] under the options (greedy when temperature is 0) by the
// rule of kernels/sampling.h, drawing the next block of rng (stream 0) unless greedy: the
// token sample_tokens picks on any device for that seed and counter.
std::int32_t sample_token(const Tensor& logits, const SamplingOptions& options, RandomGenerator& rng);

// Generates up to max_new_tokens after prompt ‖ <sg> ‖ answer_start; includes the stop
// token if reached. answer_start is read causally in the prefill's pass, not generated (nor
// returned): the text to continue when the prompt is only a paradigm token (plain
// next-token continuation).
std::vector<std::int32_t> generate(const LanguageModel& lm, std::span<const std::int32_t> prompt,
                                   std::int32_t start_generating, const SamplingOptions& options,
                                   std::span<const std::int32_t> answer_start = {});

}  // namespace birdie::model
