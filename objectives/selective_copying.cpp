// Selective copying (docs/method.md §3): find spans by the tokens around them and copy them out.
#include <algorithm>

#include "engine/error.h"
#include "objectives/objective_functions.h"

namespace birdie::objectives {
namespace special = data::special_tokens;

namespace {

// A span to copy with its delimiters: context[start - before, start) names its start,
// (the query holds both delimiters; they are the text right around the span)
// context[start + length, start + length + after) its end.
struct MarkedSpan {
  std::size_t start, length, before, after;
  std::size_t region_begin() const { return start - before; }
  std::size_t region_end() const { return start + length + after; }
};

// How often `pattern` occurs in `context` (stops counting at 2).
std::size_t occurrences(std::span<const Token> context, std::span<const Token> pattern) {
  std::size_t found = 0;
  for (auto it = context.begin();; ++it) {
    it = std::search(it, context.end(), pattern.begin(), pattern.end());
    if (it == context.end() || ++found == 2) return found;
  }
}

// Lengthens the delimiters (up to max_delimiter, inside the context) while they occur
// elsewhere in the context too, so that each one names its span unambiguously when the
// text allows it. On very repetitive text a delimiter may stay ambiguous at full length.
void make_delimiters_distinctive(MarkedSpan& s, std::span<const Token> context, std::size_t max_delimiter) {
  while (s.before < max_delimiter && s.start > s.before &&
         occurrences(context, context.subspan(s.start - s.before, s.before)) > 1)
    ++s.before;
  const std::size_t end = s.start + s.length;
  while (s.after < max_delimiter && end + s.after < context.size() &&
         occurrences(context, context.subspan(end, s.after)) > 1)
    ++s.after;
}

}  // namespace

Sample make_selective_copying(std::span<const Token> text,
                              const SelectiveCopyingParams& params, int budget,
                              RandomGenerator& rng) {
  BIRDIE_CHECK(!text.empty(), "selective-copying objective: no text left to build a sample from");
  BIRDIE_CHECK(budget >= minimum_objective_budget, "selective-copying objective: budget ",
               budget, " is below the minimum of ", minimum_objective_budget, " tokens");
  int spans_wanted = uniform_between(rng, params.min_spans, params.max_spans);
  const int context_wanted = uniform_between(rng, params.min_context, params.max_context);
  // The worst case around the context: [COPY] [CONTEXT], per span [START] d [END] d in the
  // query and the span plus [SEP] or [DONE] in the label.
  // In 64 bits: a configuration's sizes are ints whose sums need not be.
  auto overhead = [&](std::int64_t k) {
    return 2 + k * (2 + 2 * std::int64_t(params.max_delimiter)) + k * (std::int64_t(params.max_span_len) + 1);
  };
  // Shrink the number of spans first, then the context, so the sample fits its budget.
  while (spans_wanted > 1 && budget - overhead(spans_wanted) < overhead(spans_wanted)) --spans_wanted;
  const std::int64_t room = budget - overhead(spans_wanted);
  const std::size_t context_length = std::min(
      text.size(), static_cast<std::size_t>(std::max<std::int64_t>(1, std::min<std::int64_t>(context_wanted, room))));
  const auto context = text.first(context_length);

  std::vector<MarkedSpan> spans;
  for (int k = 0; k < spans_wanted; ++k) {
    // Bounded placement tries: a span region (span and both delimiters) must lie inside the
    // context and overlap no other region, so every delimiter is exactly the text around
    // its own span.
    for (int attempt = 0; attempt < 64; ++attempt) {
      MarkedSpan s{};
      s.length = static_cast<std::size_t>(uniform_between(rng, params.min_span_len, params.max_span_len));
      s.before = static_cast<std::size_t>(uniform_between(rng, params.min_delimiter, params.max_delimiter));
      s.after = static_cast<std::size_t>(uniform_between(rng, params.min_delimiter, params.max_delimiter));
      const std::size_t region = s.before + s.length + s.after;
      if (region > context_length) continue;
      s.start = s.before + rng.uniform_int(context_length - region + 1);
      make_delimiters_distinctive(s, context, static_cast<std::size_t>(params.max_delimiter));
      const bool overlaps = std::any_of(spans.begin(), spans.end(), [&](const MarkedSpan& o) {
        return s.region_begin() < o.region_end() && o.region_begin() < s.region_end();
      });
      if (!overlaps) {
        spans.push_back(s);
        break;
      }
    }
  }
  if (spans.empty()) {
    // A context too short for even one region of the configured sizes: one span of the
    // smallest sizes the context allows (at least one token, one-token delimiters when
    // there is room for them).
    MarkedSpan s{};
    s.before = context_length >= 3 ? 1 : 0;
    s.after = context_length >= 3 ? 1 : 0;
    s.length = std::max<std::size_t>(1, std::min<std::size_t>(
                                            static_cast<std::size_t>(params.min_span_len),
                                            context_length - s.before - s.after));
    s.start = s.before;
    spans.push_back(s);
  }

  std::vector<Token> query{special::copy_marker};
  Sample sample;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const MarkedSpan& s = spans[i];
    auto at = [&](std::size_t p) { return context.begin() + static_cast<std::ptrdiff_t>(p); };
    query.push_back(special::start_marker);
    query.insert(query.end(), at(s.region_begin()), at(s.start));
    query.push_back(special::end_marker);
    query.insert(query.end(), at(s.start + s.length), at(s.region_end()));
    sample.label.insert(sample.label.end(), at(s.start), at(s.start + s.length));
    sample.label.push_back(i + 1 < spans.size() ? special::separator : special::done_marker);
  }
  if (params.query_first) sample.prompt = query;
  sample.prompt.push_back(special::context_marker);
  sample.prompt.insert(sample.prompt.end(), context.begin(), context.end());
  if (!params.query_first) sample.prompt.insert(sample.prompt.end(), query.begin(), query.end());
  sample.consumed = context_length;
  return sample;
}

}  // namespace birdie::objectives
