// Recurrent generation (BIRDIE.md §5): the prompt and <sg> go through every block in one
// pass (both directions of the bidirectional blocks), then each new token is decoded
// causally with O(1) time and memory per token: only the forward state of each block is
// carried, a few N-wide vectors whatever the prompt length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/random.h"
#include "model/gated_ssm_lm.h"

namespace birdie::model {

struct SamplingOptions {
  std::int64_t max_new_tokens = 64;
  double temperature = 0.0;  // 0: greedy (argmax)
  std::int64_t top_k = 0;    // keep the k most likely tokens; 0: all
  double top_p = 1.0;        // keep the smallest set with this much probability; 1: all
  std::int32_t eos = 3;      // <eos> (BIRDIE.md §1): generation stops after it
  std::optional<std::int32_t> stop_token;  // another token that stops generation
  std::uint64_t seed = 0;
};

class RecurrentGenerator {
 public:
  explicit RecurrentGenerator(const GatedSsmLm& lm) : lm_(lm) {}

  // Runs prompt ‖ <sg> and returns the logits [V] at <sg> (the first answer token's).
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating);
  // Feeds one generated token; returns the logits [V] for the next one.
  Tensor step(std::int32_t token);
  // Both return the logits on the host: everything else stays on the model's device, so
  // a token costs one copy of V values back for sampling.

 private:
  // The head on one position's hidden state x ([1, D] or [1, 1, D]), copied to the host.
  Tensor host_logits(const Tensor& x) const;

  const GatedSsmLm& lm_;
  // Per block: [1, N], f32 when the activations are bf16 (kernels/scan_step.h).
  std::vector<Tensor> states_;
};

// Picks a token from logits [V] under the options (greedy when temperature is 0).
std::int32_t sample_token(const Tensor& logits, const SamplingOptions& options, RandomGenerator& rng);

// Generates up to max_new_tokens after prompt ‖ <sg> ‖ answer_start; includes the stop
// token if reached. answer_start is fed causally, not generated (nor returned): the text to
// continue when the prompt is only a paradigm token (plain next-token continuation).
std::vector<std::int32_t> generate(const GatedSsmLm& lm, std::span<const std::int32_t> prompt,
                                   std::int32_t start_generating, const SamplingOptions& options,
                                   std::span<const std::int32_t> answer_start = {});

}  // namespace birdie::model
