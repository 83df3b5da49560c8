// The seven objectives as pure functions: (text, parameters, budget, random stream) →
// Sample. `text` is the text available at the current position (the caller keeps enough
// of it, at least `budget` tokens when it can); `budget` is the most positions the
// sample may occupy in a row (|prompt| + |label|), the paradigm token excluded (the caller
// reserves one position for it). None of them adds the paradigm token: see paradigm.h.
// Each reads at most `budget` text tokens and throws birdie::Error on empty text or a
// budget below minimum_objective_budget.
#pragma once

#include <span>

#include "engine/random.h"
#include "objectives/objective_params.h"
#include "objectives/sample.h"

namespace birdie::objectives {

// The smallest budget an objective accepts: below it there is no room for a meaningful
// sample (a span and its sentinels, a selective-copy query and one span).
constexpr int minimum_objective_budget = 16;

// [] → x[0:n], n = min(text, budget, max_len).
Sample make_next_token(std::span<const Token> text, const NextTokenParams& params,
                       int budget, RandomGenerator& rng);
// x[0:s] → x[s:n] with s uniform in [ceil(n/2), n-4] (s = n/2 when n < 8).
Sample make_prefix_lm(std::span<const Token> text, const PrefixLmParams& params, int budget,
                      RandomGenerator& rng);
// corrupted x → sentinel_0 span_0 sentinel_1 span_1 … (T5 order).
Sample make_infilling(std::span<const Token> text, const InfillingParams& params, int budget,
                      RandomGenerator& rng);
// corrupted (and, with deshuffle, run-permuted) x → x.
Sample make_autoencoding(std::span<const Token> text, const AutoencodingParams& params,
                         int budget, RandomGenerator& rng);
// x → x.
Sample make_copying(std::span<const Token> text, const CopyingParams& params, int budget,
                    RandomGenerator& rng);
// x with round(fraction · n) positions cyclically permuted (every chosen position moves)
// → x.
Sample make_deshuffling(std::span<const Token> text, const DeshufflingParams& params,
                        int budget, RandomGenerator& rng);
// [COPY] ([START] d_start [END] d_end)×k [CONTEXT] x (or [CONTEXT] x query)
// → span_1 [SEP] … [SEP] span_k [DONE]. Delimiters start at a drawn length in
// [min_delimiter, max_delimiter] and grow (up to max_delimiter) while they also occur
// elsewhere in the context; the regions (span and both delimiters) never overlap.
Sample make_selective_copying(std::span<const Token> text,
                              const SelectiveCopyingParams& params, int budget,
                              RandomGenerator& rng);

// Draws an integer uniformly in [low, high] (inclusive); low when high <= low.
int uniform_between(RandomGenerator& rng, int low, int high);

}  // namespace birdie::objectives
