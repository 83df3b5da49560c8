// Cutting a tensor apart along its last dimension and putting parts side by side
// (kernels/columns.h): each one's gradient is the other.
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/columns.h"

namespace birdie::autograd {

namespace {
Shape with_last(Shape shape, std::int64_t width) {
  shape.back() = width;
  return shape;
}
}  // namespace

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

Tensor concat_last(const std::vector<Tensor>& parts) {
  BIRDIE_CHECK(!parts.empty() && parts.front().rank() >= 1, "concat_last: no parts, or parts of rank 0");
  const Tensor& first = parts.front();
  std::int64_t total = 0;
  for (const Tensor& p : parts) {
    BIRDIE_CHECK(p.rank() == first.rank() && with_last(p.shape(), 0) == with_last(first.shape(), 0),
                 "concat_last: ", p.describe(), " does not match ", first.describe(), " but in its last dimension");
    total += p.dim(p.rank() - 1);
  }
  Tensor y = Tensor::empty(with_last(first.shape(), total), first.dtype(), first.device());
  std::int64_t at = 0;
  for (const Tensor& p : parts) {
    kernels::copy_columns(p, 0, y, at, p.dim(p.rank() - 1));
    at += p.dim(p.rank() - 1);
  }
  bool any = false;
  for (const Tensor& p : parts) any = any || needs_grad({&p});
  if (any) {
    record("concat_last", parts, {y}, [parts](const std::vector<Tensor>& grads) {
      if (!grads[0].defined()) return;
      std::int64_t begin = 0;
      for (const Tensor& p : parts) {
        const std::int64_t w = p.dim(p.rank() - 1);
        if (!p.requires_grad()) {
          begin += w;
          continue;
        }
        Tensor dp = Tensor::empty(p.shape(), p.dtype(), p.device());
        kernels::copy_columns(grads[0], begin, dp, 0, w);
        accumulate_fresh_grad(p, dp);
        begin += w;
      }
    });
  }
  return y;
}

}  // namespace birdie::autograd
