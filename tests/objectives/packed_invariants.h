// The row format of docs/method.md §2 as checks on a packed batch, shared by the packer, batch,
// loader and validation-set tests.
#pragma once

#include <doctest/doctest.h>

#include "objectives/packed_batch.h"

namespace birdie::objectives::testing {

inline void check_row_format(const PackedBatch& b) {
  REQUIRE(b.tokens.size() == static_cast<std::size_t>(b.rows) * static_cast<std::size_t>(b.length));
  REQUIRE(b.targets.size() == b.tokens.size());
  REQUIRE(b.segment.size() == b.tokens.size());
  REQUIRE(b.reset.size() == b.tokens.size());
  REQUIRE(b.objective.size() == b.tokens.size());
  for (int r = 0; r < b.rows; ++r) {
    int previous_segment = 0;
    bool in_suffix = false;
    bool padding = false;
    for (int t = 0; t < b.length; ++t) {
      const auto i = b.at(r, t);
      const int seg = b.segment[i];
      const bool starts = t == 0 || seg != previous_segment;
      if (seg == 0) {
        // Padding: only at the end of the row, reset 1 at its first token, 0 after.
        CHECK(b.tokens[i] == data::special_tokens::pad);
        CHECK(b.targets[i] == ignore_target);
        CHECK(b.objective[i] == -1);
        CHECK(b.reset[i] == (padding ? 0 : 1));
        padding = true;
      } else {
        REQUIRE_FALSE(padding);
        if (starts) {
          CHECK(seg == previous_segment + 1);  // 1, 2, 3 … in order
          CHECK((b.reset[i] & 1) == 1);
          in_suffix = false;
        } else {
          CHECK((b.reset[i] & 1) == 0);
        }
        if (b.tokens[i] == data::special_tokens::start_generating && !in_suffix) in_suffix = true;
        CHECK(((b.reset[i] & 2) != 0) == in_suffix);
        CHECK((b.targets[i] != ignore_target) == in_suffix);
        // Within a suffix, the target of t is the token at t + 1.
        if (in_suffix && t + 1 < b.length && b.segment[i + 1] == seg) CHECK(b.targets[i] == b.tokens[i + 1]);
        CHECK(b.objective[i] >= 0);
      }
      previous_segment = seg;
    }
  }
}

}  // namespace birdie::objectives::testing
