// What every objective produces from a chunk of text (docs/method.md §2-3).
#pragma once

#include <cstddef>
#include <vector>

#include "data/special_tokens.h"

namespace birdie::objectives {

using data::Token;

// One training example: the packer writes prompt ‖ <sg> ‖ label[0:M-1] as tokens and
// ignore × |prompt| ‖ label as targets, so a sample occupies |prompt| + |label| positions
// of a row. `consumed` counts the text tokens read from the front of the text the
// objective was given; the caller carries the rest over to the next sample.
struct Sample {
  std::vector<Token> prompt;
  std::vector<Token> label;
  std::size_t consumed = 0;

  std::size_t row_tokens() const { return prompt.size() + label.size(); }
};

}  // namespace birdie::objectives
