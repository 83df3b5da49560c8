#include "autograd/ops.h"
#include "autograd/tape.h"

namespace birdie::autograd {

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.reshape(shape);
  if (needs_grad({&x})) {
    record("reshape", {x}, {y}, [x](const std::vector<Tensor>& grads) {
      accumulate_output_grad(x, grads[0].reshape(x.shape()));
    });
  }
  return y;
}

}  // namespace birdie::autograd
