#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/rotary.h"

namespace birdie::autograd {

Tensor rotary(const Tensor& x, const kernels::Segments& segments, double base) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::rotary_forward(x, segments, base, y);
  if (needs_grad({&x})) {
    record("rotary", {x}, {y}, [x, segments, base](const std::vector<Tensor>& grads) {
      // The rotation is orthogonal: its backward is the rotation by −θ.
      Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
      kernels::rotary_backward(grads[0], segments, base, dx);
      accumulate_fresh_grad(x, dx);
    });
  }
  return y;
}

Tensor rotary(const Tensor& x, const Tensor& reset, double base) {
  return rotary(x, kernels::segments_of(reset), base);
}

}  // namespace birdie::autograd
