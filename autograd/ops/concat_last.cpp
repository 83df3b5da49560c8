// Putting tensors side by side along their last dimension (kernels/columns.h): the
// gradient cuts the result's gradient apart (split_last's forward).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/columns.h"

namespace birdie::autograd {

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
