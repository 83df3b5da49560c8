// Infilling and autoencoding (with its deshuffle variant): the span-corruption objectives.
#include <algorithm>
#include <numeric>

#include "engine/error.h"
#include "objectives/objective_functions.h"
#include "objectives/span_corruption.h"

namespace birdie::objectives {
namespace {

void check_corruption_inputs(const char* objective, std::span<const Token> text, int budget,
                             double rate, double mean_span) {
  BIRDIE_CHECK(!text.empty(), objective, ": no text left to build a sample from");
  BIRDIE_CHECK(budget >= minimum_objective_budget, objective, ": budget ", budget,
               " is below the minimum of ", minimum_objective_budget, " tokens");
  BIRDIE_CHECK(rate > 0 && rate < 1 && mean_span >= 1, objective, ": corruption_rate ", rate,
               " must be in (0, 1) and mean_span ", mean_span, " at least 1");
}

// Number of unmasked runs of the corrupted text, i.e. the stretches of text between spans.
std::size_t count_unmasked_runs(const std::vector<Span>& spans, std::size_t n) {
  std::size_t runs = 0;
  std::size_t pos = 0;
  for (const Span& s : spans) {
    if (s.start > pos) ++runs;
    pos = s.end();
  }
  return runs + (pos < n ? 1 : 0);
}

}  // namespace

Sample make_infilling(std::span<const Token> text, const InfillingParams& params, int budget,
                      RandomGenerator& rng) {
  check_corruption_inputs("infilling objective", text, budget, params.corruption_rate,
                          params.mean_span);
  const int cap = std::min(params.max_len, budget);
  // Expected cost per text token: 1 plus 2 per span, and about rate / mean_span spans per
  // token. Take that much text, then cut to the exact budget after corruption.
  const double per_token = 1.0 + 2.0 * params.corruption_rate / params.mean_span;
  std::size_t n = std::min(text.size(), static_cast<std::size_t>(cap / per_token));
  n = std::max<std::size_t>(n, std::min<std::size_t>(2, text.size()));
  auto spans = corrupt_spans(n, params.corruption_rate, params.mean_span, rng,
                             [](const std::vector<Span>&) { return true; });
  const std::size_t drawn_n = n;
  n = fit_spans_to_budget(spans, n, 1, 1, 2, static_cast<std::size_t>(cap));
  if (spans.empty()) {
    // Every span fell beyond the budget (small budgets): one forced span early in the text.
    spans = forced_span(drawn_n, params.mean_span, rng);
    n = fit_spans_to_budget(spans, drawn_n, 1, 1, 2, static_cast<std::size_t>(cap));
  }
  Sample sample;
  sample.prompt = corrupted_text(text.first(n), spans);
  int next_sentinel = 0;
  for (const Span& span : spans) {
    sample.label.push_back(data::special_tokens::sentinel(next_sentinel++));
    sample.label.insert(sample.label.end(), text.begin() + static_cast<std::ptrdiff_t>(span.start),
                        text.begin() + static_cast<std::ptrdiff_t>(span.end()));
  }
  sample.consumed = n;
  return sample;
}

Sample make_autoencoding(std::span<const Token> text, const AutoencodingParams& params,
                         int budget, RandomGenerator& rng) {
  check_corruption_inputs("autoencoding objective", text, budget, params.corruption_rate,
                          params.mean_span);
  const int cap = std::min(params.max_len, budget);
  // Per text token: 2 when unmasked (prompt and label), 1 when masked, plus 1 per span.
  const double per_token =
      2.0 - params.corruption_rate + params.corruption_rate / params.mean_span;
  std::size_t n = std::min(text.size(), static_cast<std::size_t>(cap / per_token));
  n = std::max<std::size_t>(n, std::min<std::size_t>(2, text.size()));
  // The deshuffle variant needs at least two unmasked runs to permute; retry until so.
  auto spans = corrupt_spans(n, params.corruption_rate, params.mean_span, rng,
                             [&](const std::vector<Span>& s) {
                               return !params.deshuffle || count_unmasked_runs(s, n) >= 2;
                             });
  const std::size_t drawn_n = n;
  n = fit_spans_to_budget(spans, n, 2, 1, 1, static_cast<std::size_t>(cap));
  if (spans.empty()) {
    spans = forced_span(drawn_n, params.mean_span, rng);
    n = fit_spans_to_budget(spans, drawn_n, 2, 1, 1, static_cast<std::size_t>(cap));
  }
  const auto x = text.first(n);
  Sample sample;
  sample.label.assign(x.begin(), x.end());
  sample.consumed = n;
  if (!params.deshuffle) {
    sample.prompt = corrupted_text(x, spans);
    return sample;
  }
  // Pieces of the corrupted text in order: unmasked runs and sentinels. The sentinels stay
  // where they are; the runs trade places along one random cycle (Sattolo), so whenever
  // there are two runs or more, every run moves.
  struct Run {
    std::size_t begin, end;
  };
  std::vector<Run> runs;
  std::size_t pos = 0;
  for (const Span& s : spans) {
    if (s.start > pos) runs.push_back({pos, s.start});
    pos = s.end();
  }
  if (pos < n) runs.push_back({pos, n});
  std::vector<std::size_t> order(runs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(i - 1)]);
  std::size_t run_index = 0;
  std::size_t span_index = 0;
  pos = 0;
  auto emit_run = [&] {
    const Run& r = runs[order[run_index++]];
    sample.prompt.insert(sample.prompt.end(), x.begin() + static_cast<std::ptrdiff_t>(r.begin),
                         x.begin() + static_cast<std::ptrdiff_t>(r.end));
  };
  for (const Span& s : spans) {
    if (s.start > pos) emit_run();
    sample.prompt.push_back(data::special_tokens::sentinel(static_cast<int>(span_index++)));
    pos = s.end();
  }
  if (pos < n) emit_run();
  return sample;
}

}  // namespace birdie::objectives
