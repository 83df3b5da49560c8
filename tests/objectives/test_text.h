// Text for objective tests: distinct token values, so where a token came from is
// unambiguous.
#pragma once

#include <numeric>
#include <vector>

#include "data/special_tokens.h"
#include "engine/random.h"

namespace birdie::objectives::testing {

// n distinct ids from [1000, 1000 + 4n), shuffled.
inline std::vector<data::Token> distinct_text(std::size_t n, std::uint64_t seed) {
  std::vector<data::Token> pool(4 * n);
  std::iota(pool.begin(), pool.end(), 1000);
  RandomGenerator rng(seed, 99);
  for (std::size_t i = 0; i < n; ++i) std::swap(pool[i], pool[i + rng.uniform_int(pool.size() - i)]);
  pool.resize(n);
  return pool;
}

// 1000, 1001, ..., 1000 + n - 1: readable hand-made input.
inline std::vector<data::Token> counting_text(std::size_t n) {
  std::vector<data::Token> t(n);
  std::iota(t.begin(), t.end(), 1000);
  return t;
}

}  // namespace birdie::objectives::testing
