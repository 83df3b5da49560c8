#include "autograd/ops/grad_buffer.h"

namespace birdie::autograd {

Tensor grad_buffer(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return Tensor();
  if (!input.grad().defined())
    input.set_grad(Tensor::zeros(input.shape(), input.dtype(), input.device()));
  return input.grad();
}

}  // namespace birdie::autograd
