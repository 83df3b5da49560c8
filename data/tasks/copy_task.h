// A synthetic copy task: each sample is a random string of symbols that the model must
// reproduce after <sg>, packed into rows exactly like Birdie's training rows (docs/method.md
// §2): prompt = x, label = x; tokens = x ‖ <sg> ‖ x[0:n-1], targets = ignored × n ‖ x;
// reset 1 at each sample's first token, 2 on the suffix (<sg> and the label); padding is
// its own segment.
// Small enough to train on a CPU in seconds, hard enough that only a model that carries
// information across the prompt can solve it: the engine's end-to-end smoke test.
#pragma once

#include <cstdint>

#include "data/special_tokens.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace birdie::data {

struct CopyTaskConfig {
  std::int32_t first_symbol = 8;   // symbols are ids [first_symbol, first_symbol + symbols)
  std::int32_t symbols = 8;
  std::int32_t min_length = 4;     // prompt length, uniform in [min_length, max_length]
  std::int32_t max_length = 8;
  std::int64_t rows = 16;
  std::int64_t row_length = 64;
  std::int32_t start_generating = special_tokens::start_generating;
  std::int32_t padding = special_tokens::pad;
};

// tokens, targets, reset: [rows, row_length], i32.
struct CopyTaskBatch {
  Tensor tokens, targets, reset;
};

CopyTaskBatch make_copy_task_batch(const CopyTaskConfig& config, RandomGenerator& rng);

}  // namespace birdie::data
