// Span corruption, shared by infilling and autoencoding (docs/method.md §3).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "engine/random.h"
#include "objectives/sample.h"

namespace birdie::objectives {

// x[start : start + width] is replaced by one sentinel.
struct Span {
  std::size_t start = 0;
  std::size_t width = 0;
  std::size_t end() const { return start + width; }
  bool operator==(const Span&) const = default;
};

// One pass of the §3 rule over n positions, left to right: at each position draw
// w = max(1, round(N(mean_span, 1))); start a span of width min(w, n - pos) there with
// probability rate / w, unless the previous span (width w_prev) ended less than
// w_prev / 3 + 1 positions ago. At most `max_spans` spans (one per sentinel). May return
// no span at all; see corrupt_spans for the retry.
std::vector<Span> draw_spans_once(std::size_t n, double rate, double mean_span,
                                  RandomGenerator& rng, int max_spans);

// draw_spans_once retried up to `max_attempts` times until `accept` holds (at least one
// span, and whatever else the caller needs). When every attempt fails, one span of width
// max(1, round(N(mean_span, 1))) (at most n/2) is forced at a uniform position in
// [1, n/2] so the sample still has something to predict: documented fallback of the
// "bounded retry" of §3. n must be >= 2.
template <class Accept>
std::vector<Span> corrupt_spans(std::size_t n, double rate, double mean_span,
                                RandomGenerator& rng, Accept&& accept, int max_attempts = 8);

// The fallback of the bounded retry: one span of width max(1, round(N(mean_span, 1))), at
// most n/2, at a uniform position in [1, n/2] (n >= 2), so that the sample has something
// to predict and, for n >= 3, text on both sides of the span.
std::vector<Span> forced_span(std::size_t n, double mean_span, RandomGenerator& rng);

// Cost of the first `length` text positions under spans, as (unmasked token cost, masked
// token cost, cost per span): the largest prefix length of the text whose cost fits in
// `budget`, with the spans cut to it (dropped or shortened). Infilling costs (1, 1, 2): the
// prompt holds unmasked tokens and one sentinel per span, the label a sentinel and the
// masked tokens. Autoencoding costs (2, 1, 1).
std::size_t fit_spans_to_budget(std::vector<Span>& spans, std::size_t n, int unmasked_cost,
                                int masked_cost, int span_cost, std::size_t budget);

// The prompt after corruption: x with each span replaced by the next sentinel.
std::vector<Token> corrupted_text(std::span<const Token> text, const std::vector<Span>& spans);

// ----------------------------------------------------------------------------------------
template <class Accept>
std::vector<Span> corrupt_spans(std::size_t n, double rate, double mean_span,
                                RandomGenerator& rng, Accept&& accept, int max_attempts) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto spans = draw_spans_once(n, rate, mean_span, rng, data::special_tokens::sentinel_count);
    if (!spans.empty() && accept(spans)) return spans;
  }
  return forced_span(n, mean_span, rng);
}

}  // namespace birdie::objectives
