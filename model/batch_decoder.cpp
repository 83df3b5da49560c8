#include "model/batch_decoder.h"

namespace birdie::model {

Tensor stack_rows(std::span<const Tensor> rows) {
  BIRDIE_CHECK(!rows.empty(), "stack_rows: no rows");
  const Tensor& first = rows.front();
  BIRDIE_CHECK(first.rank() >= 1 && first.dim(0) == 1, "stack_rows: rows must be [1, ...], got ", first.describe());
  Shape shape = first.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor stacked = Tensor::empty(shape, first.dtype(), first.device());
  for (std::size_t b = 0; b < rows.size(); ++b) {
    check_shape(rows[b], first.shape(), "stack_rows row (the first row's shape)");
    stacked.slice(static_cast<std::int64_t>(b), static_cast<std::int64_t>(b) + 1).copy_from(rows[b]);
  }
  return stacked;
}

}  // namespace birdie::model
