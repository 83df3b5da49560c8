#include "data/tasks/copy_task.h"

#include <vector>

namespace birdie::data {

CopyTaskBatch make_copy_task_batch(const CopyTaskConfig& c, RandomGenerator& rng) {
  BIRDIE_CHECK(c.symbols > 0 && 0 < c.min_length && c.min_length <= c.max_length,
               "copy task: need symbols > 0 and 0 < min_length <= max_length");
  BIRDIE_CHECK(2 * c.max_length <= c.row_length, "copy task: a sample of up to ",
               2 * c.max_length, " tokens does not fit a row of ", c.row_length);
  const std::int64_t L = c.row_length;
  std::vector<std::int32_t> tokens(c.rows * L, c.padding), targets(c.rows * L, -1), reset(c.rows * L, 0);
  for (std::int64_t r = 0; r < c.rows; ++r) {
    std::int64_t t = r * L;
    const std::int64_t end = t + L;
    for (;;) {
      const auto n = static_cast<std::int64_t>(
          c.min_length + rng.uniform_int(std::uint64_t(c.max_length - c.min_length + 1)));
      if (t + 2 * n > end) break;
      std::vector<std::int32_t> x(n);
      for (auto& v : x) v = c.first_symbol + static_cast<std::int32_t>(rng.uniform_int(c.symbols));
      reset[t] = 1;
      for (std::int64_t i = 0; i < n; ++i) tokens[t + i] = x[i];
      tokens[t + n] = c.start_generating;
      for (std::int64_t i = 0; i < n; ++i) {
        if (i + 1 < n) tokens[t + n + 1 + i] = x[i];
        targets[t + n + i] = x[i];
        reset[t + n + i] = 2;
      }
      t += 2 * n;
    }
    if (t < end) reset[t] = 1;  // padding: its own segment
  }
  return {Tensor::from_values<std::int32_t>(tokens, {c.rows, L}),
          Tensor::from_values<std::int32_t>(targets, {c.rows, L}),
          Tensor::from_values<std::int32_t>(reset, {c.rows, L})};
}

}  // namespace birdie::data
