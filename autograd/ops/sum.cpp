#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

Tensor sum(const Tensor& x) {
  // A bf16 sum is kept in f32 (summed in f64 either way), on the device.
  Tensor out = Tensor::empty({1}, x.dtype() == DType::bf16 ? DType::f32 : x.dtype(), x.device());
  kernels::sum_into(x, 1.0, out);
  if (needs_grad({&x})) {
    record("sum", {x}, {out}, [x](const std::vector<Tensor>& grads) {
      Tensor dx = Tensor::full(x.shape(), 1.0, x.dtype(), x.device());
      if (!is_backward_seed(grads[0])) kernels::scale_inplace(dx, grads[0]);
      accumulate_fresh_grad(x, dx);
    });
  }
  return out;
}

}  // namespace birdie::autograd
