#include "objectives/span_corruption.h"

#include <cmath>

namespace birdie::objectives {

std::vector<Span> draw_spans_once(std::size_t n, double rate, double mean_span,
                                  RandomGenerator& rng, int max_spans) {
  std::vector<Span> spans;
  // Before the first span nothing blocks: pretend the last span ended far enough back.
  double previous_end = -1e18;
  double previous_width = 0;
  std::size_t pos = 0;
  while (pos < n && static_cast<int>(spans.size()) < max_spans) {
    const double drawn = std::round(mean_span + rng.normal());
    const double width = std::max(1.0, drawn);
    const bool too_close = static_cast<double>(pos) - previous_end < previous_width / 3.0 + 1.0;
    // The uniform is drawn at every position (blocked or not) so that one position always
    // uses the same number of random draws: the stream stays easy to reason about.
    const bool start = rng.uniform() < rate / width;
    if (start && !too_close) {
      const std::size_t w = std::min(static_cast<std::size_t>(width), n - pos);
      spans.push_back(Span{pos, w});
      previous_end = static_cast<double>(pos + w);
      previous_width = static_cast<double>(w);
      pos += w;
    } else {
      ++pos;
    }
  }
  return spans;
}

std::vector<Span> forced_span(std::size_t n, double mean_span, RandomGenerator& rng) {
  const double drawn = mean_span + rng.normal();
  std::size_t width = static_cast<std::size_t>(std::max(1.0, std::round(drawn)));
  width = std::min(width, std::max<std::size_t>(1, n / 2));
  const std::size_t start = std::min(n - 1, 1 + rng.uniform_int(std::max<std::size_t>(1, n / 2)));
  return {Span{start, std::min(width, n - start)}};
}

std::size_t fit_spans_to_budget(std::vector<Span>& spans, std::size_t n, int unmasked_cost,
                                int masked_cost, int span_cost, std::size_t budget) {
  std::size_t cost = 0;
  std::size_t pos = 0;
  std::size_t kept = 0;
  auto take_unmasked = [&](std::size_t until) {
    // Unmasked tokens one cost step at a time; stops where the budget runs out.
    const std::size_t room = (budget - cost) / static_cast<std::size_t>(unmasked_cost);
    const std::size_t take = std::min(until - pos, room);
    cost += take * static_cast<std::size_t>(unmasked_cost);
    pos += take;
    return pos == until;
  };
  for (Span& span : spans) {
    if (!take_unmasked(span.start)) {
      spans.resize(kept);
      return pos;
    }
    if (cost + static_cast<std::size_t>(span_cost + masked_cost) > budget) {
      spans.resize(kept);
      return pos;
    }
    cost += static_cast<std::size_t>(span_cost);
    const std::size_t room = (budget - cost) / static_cast<std::size_t>(masked_cost);
    const std::size_t width = std::min(span.width, room);
    const bool cut = width < span.width;
    cost += width * static_cast<std::size_t>(masked_cost);
    span.width = width;
    pos += width;
    ++kept;
    if (cut || cost >= budget) {
      spans.resize(kept);
      return pos;
    }
  }
  take_unmasked(n);
  return pos;
}

std::vector<Token> corrupted_text(std::span<const Token> text, const std::vector<Span>& spans) {
  std::vector<Token> out;
  out.reserve(text.size());
  std::size_t pos = 0;
  int next_sentinel = 0;
  for (const Span& span : spans) {
    out.insert(out.end(), text.begin() + static_cast<std::ptrdiff_t>(pos),
               text.begin() + static_cast<std::ptrdiff_t>(span.start));
    out.push_back(data::special_tokens::sentinel(next_sentinel++));
    pos = span.end();
  }
  out.insert(out.end(), text.begin() + static_cast<std::ptrdiff_t>(pos), text.end());
  return out;
}

}  // namespace birdie::objectives
