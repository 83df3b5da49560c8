// Cutting a tensor apart along its last dimension (kernels/columns.h): the gradient puts
// the parts' gradients side by side (concat_last's forward).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/columns.h"

namespace birdie::autograd {

std::vector<Tensor> split_last(const Tensor& x, const std::vector<std::int64_t>& widths) {
  BIRDIE_CHECK(x.rank() >= 1, "split_last: x of rank 0");
  std::int64_t total = 0;
  for (std::int64_t w : widths) {
    BIRDIE_CHECK(w >= 0, "split_last: negative width ", w);
    total += w;
  }
  BIRDIE_CHECK(total == x.dim(x.rank() - 1), "split_last: widths sum to ", total, ", not the last dimension of ",
               x.describe());
  std::vector<Tensor> parts;
  std::int64_t begin = 0;
  for (std::int64_t w : widths) {
    Tensor part = Tensor::empty(with_last(x.shape(), w), x.dtype(), x.device());
    kernels::copy_columns(x, begin, part, 0, w);
    parts.push_back(part);
    begin += w;
  }
  if (needs_grad({&x})) {
    record("split_last", {x}, parts, [x, widths](const std::vector<Tensor>& grads) {
      Tensor dx = Tensor::zeros(x.shape(), x.dtype(), x.device());
      std::int64_t at = 0;
      for (std::size_t k = 0; k < widths.size(); ++k) {
        if (grads[k].defined()) kernels::copy_columns(grads[k], 0, dx, at, widths[k]);
        at += widths[k];
      }
      accumulate_fresh_grad(x, dx);
    });
  }
  return parts;
}

}  // namespace birdie::autograd
