// The CPU reference of token sampling (kernels/sampling.h) on one row of logits, in plain
// C++ without tensors: scripts/emulate_decoding_kernels.py compiles this very file beside
// the CUDA kernel's source and checks that both pick the same tokens.
#pragma once

#include <cstdint>

namespace birdie::kernels {

// Greedy (argmax, the first maximum) when temperature ≤ 0; else a draw from
// softmax(logits / temperature) restricted to the top_k most likely tokens (0: all) and
// then to the smallest top-ranked set holding top_p of their mass (1: all).
struct SamplingRule {
  double temperature = 0.0;
  std::int64_t top_k = 0;
  double top_p = 1.0;
};

namespace cpu {

// The token drawn from logits [V] with Philox block (seed, stream 0, counter)
// (kernels/sampling_rule.h); the counter is not read when the rule is greedy.
std::int32_t sample_row(const float* logits, std::int64_t V, const SamplingRule& rule, std::uint64_t seed,
                        std::uint64_t counter);

}  // namespace cpu
}  // namespace birdie::kernels
