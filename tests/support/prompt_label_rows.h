// Packed rows for trainer tests: each row holds two samples, a prompt of 5 tokens then a
// label of 7 with targets, random tokens from id 4 on.
#pragma once

#include <cstdint>

#include "engine/random.h"
#include "objectives/packed_batch.h"

namespace birdie::testing {

inline objectives::PackedBatch prompt_label_rows(RandomGenerator& rng, std::int32_t vocab, int rows = 2) {
  objectives::PackedBatch b;
  b.rows = rows;
  b.length = 24;
  const std::size_t n = std::size_t(b.rows) * std::size_t(b.length);
  b.tokens.resize(n);
  b.targets.assign(n, objectives::ignore_target);
  b.segment.assign(n, 0);
  b.reset.assign(n, 0);
  b.objective.assign(n, 0);
  for (int r = 0; r < b.rows; ++r)
    for (int t = 0; t < b.length; ++t) {
      const std::size_t i = b.at(r, t);
      b.tokens[i] = static_cast<std::int32_t>(4 + rng.uniform_int(std::uint64_t(vocab - 4)));
      const int start = t < 12 ? 0 : 12, at = t - start;
      b.segment[i] = t < 12 ? 1 : 2;
      if (at == 0) b.reset[i] |= 1;
      if (at >= 5) {
        b.reset[i] |= 2;
        b.targets[i] = static_cast<std::int32_t>(4 + rng.uniform_int(std::uint64_t(vocab - 4)));
      }
    }
  return b;
}

}  // namespace birdie::testing
