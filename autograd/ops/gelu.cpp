#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor gelu(const Tensor& x) {
  Tensor y = empty_like(x);
  kernels::gelu_forward(x, y);
  if (needs_grad({&x})) {
    record("gelu", {x}, {y}, [x](const std::vector<Tensor>& grads) {
      Tensor dx = empty_like(x);
      kernels::gelu_backward(x, grads[0], dx);
      accumulate_fresh_grad(x, dx);
    });
  }
  return y;
}

}  // namespace birdie::autograd
