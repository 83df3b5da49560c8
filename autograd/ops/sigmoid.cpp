#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor sigmoid(const Tensor& x) {
  Tensor y = empty_like(x);
  kernels::sigmoid_forward(x, y);
  if (needs_grad({&x})) {
    // Saves its own output: σ' = σ(1 - σ).
    record("sigmoid", {x}, {y}, [x, y](const std::vector<Tensor>& grads) {
      Tensor dx = empty_like(x);
      kernels::sigmoid_backward(y, grads[0], dx);
      accumulate_fresh_grad(x, dx);
    });
  }
  return y;
}

}  // namespace birdie::autograd
