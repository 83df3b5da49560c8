// Next-token prediction, prefix LM, copying and deshuffling: the objectives that need no
// span corruption.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"
#include "objectives/objective_functions.h"

namespace birdie::objectives {
namespace {

void check_inputs(const char* objective, std::span<const Token> text, int budget) {
  BIRDIE_CHECK(!text.empty(), objective, ": no text left to build a sample from");
  BIRDIE_CHECK(budget >= minimum_objective_budget, objective, ": budget ", budget,
               " is below the minimum of ", minimum_objective_budget, " tokens");
}

std::size_t text_length(std::span<const Token> text, int max_len, int budget) {
  const int cap = max_len > 0 ? std::min(max_len, budget) : budget;
  return std::min(text.size(), static_cast<std::size_t>(cap));
}

std::vector<Token> slice(std::span<const Token> text, std::size_t begin, std::size_t end) {
  return {text.begin() + static_cast<std::ptrdiff_t>(begin),
          text.begin() + static_cast<std::ptrdiff_t>(end)};
}

// A copy-like sample's text length: half of a budget drawn in [min_len, max_len], as
// prompt and label both hold the text.
std::size_t copy_text_length(std::span<const Token> text, int min_len, int max_len, int budget,
                             RandomGenerator& rng) {
  const int drawn = std::min(uniform_between(rng, min_len, max_len), budget);
  return std::min(text.size(), static_cast<std::size_t>(std::max(1, drawn / 2)));
}

}  // namespace

int uniform_between(RandomGenerator& rng, int low, int high) {
  if (high <= low) return low;
  return low + static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(std::int64_t(high) - low) + 1));
}

Sample make_next_token(std::span<const Token> text, const NextTokenParams& params, int budget,
                       RandomGenerator&) {
  check_inputs("next-token objective", text, budget);
  // The whole sample is causal: an empty prompt, so no label token is ever visible to the
  // bidirectional prefix (the pitfall of §4 where NTP silently becomes copying).
  const std::size_t n = text_length(text, params.max_len, budget);
  return Sample{{}, slice(text, 0, n), n};
}

Sample make_prefix_lm(std::span<const Token> text, const PrefixLmParams& params, int budget,
                      RandomGenerator& rng) {
  check_inputs("prefix-LM objective", text, budget);
  const std::size_t n = text_length(text, params.max_len, budget);
  std::size_t split = n / 2;
  if (n >= 8) {
    const std::size_t low = (n + 1) / 2;  // ceil(0.5 n)
    split = low + rng.uniform_int(n - 4 - low + 1);
  }
  return Sample{slice(text, 0, split), slice(text, split, n), n};
}

Sample make_copying(std::span<const Token> text, const CopyingParams& params, int budget,
                    RandomGenerator& rng) {
  check_inputs("copying objective", text, budget);
  const std::size_t n = copy_text_length(text, params.min_len, params.max_len, budget, rng);
  auto x = slice(text, 0, n);
  return Sample{x, x, n};
}

Sample make_deshuffling(std::span<const Token> text, const DeshufflingParams& params,
                        int budget, RandomGenerator& rng) {
  check_inputs("deshuffling objective", text, budget);
  const std::size_t n = copy_text_length(text, params.min_len, params.max_len, budget, rng);
  std::vector<Token> label = slice(text, 0, n);
  std::vector<Token> prompt = label;
  const auto moved = static_cast<std::size_t>(std::llround(params.shuffle_fraction * static_cast<double>(n)));
  if (moved >= 2) {
    // Choose the positions, then move their tokens along one random cycle (Sattolo's
    // algorithm): every chosen position receives another chosen position's token, so
    // exactly `moved` positions are displaced.
    const std::vector<std::size_t> positions = distinct_indices(n, moved, rng);
    std::vector<std::size_t> order(moved);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = moved - 1; i > 0; --i) std::swap(order[i], order[rng.uniform_int(i)]);
    for (std::size_t i = 0; i < moved; ++i) prompt[positions[i]] = label[positions[order[i]]];
  }
  return Sample{std::move(prompt), std::move(label), n};
}

}  // namespace birdie::objectives
