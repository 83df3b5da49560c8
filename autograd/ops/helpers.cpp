#include "autograd/ops/helpers.h"

#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor grad_buffer(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return Tensor();
  if (!input.grad().defined())
    input.set_grad(Tensor::zeros(input.shape(), input.dtype(), input.device()));
  return input.grad();
}

Tensor accumulation_target(const Tensor& parameter) {
  Tensor g = grad_buffer(parameter);
  return g.defined() ? g : Tensor::zeros(parameter.shape(), parameter.dtype(), parameter.device());
}

Tensor reduce_to(const Tensor& grad, const Tensor& operand) {
  if (grad.shape() == operand.shape()) return grad;
  const Tensor existing = operand.grad();
  Tensor reduced = Tensor::empty(operand.shape(), existing.defined() ? existing.dtype() : operand.dtype(),
                                 operand.device());
  kernels::sum_to_trailing(grad, reduced);
  return reduced;
}

}  // namespace birdie::autograd
