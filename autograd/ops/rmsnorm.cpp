#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/rmsnorm.h"

namespace birdie::autograd {

Tensor rmsnorm(const Tensor& x, const Tensor& weight, double eps) {
  BIRDIE_CHECK(x.rank() >= 1, "rmsnorm: input must have a last dimension, got ", x.describe());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  // With bf16 activations the statistics stay in fp32 (kernels/rmsnorm.h).
  Tensor inv_rms = Tensor::empty({x.numel() / std::max<std::int64_t>(x.dim(-1), 1)},
                                 x.dtype() == DType::bf16 ? DType::f32 : x.dtype(), x.device());
  kernels::rmsnorm_forward(x, weight, eps, y, inv_rms);
  if (needs_grad({&x, &weight})) {
    record("rmsnorm", {x, weight}, {y}, [x, weight, inv_rms](const std::vector<Tensor>& grads) {
      Tensor dweight = grad_buffer(weight);  // accumulated into in place
      if (!dweight.defined()) dweight = Tensor::zeros(weight.shape(), weight.dtype(), weight.device());
      // A pre-norm block's input already holds the gradient that came along the residual:
      // dx is added into it in the same pass.
      Tensor existing = x.requires_grad() ? x.grad() : Tensor();
      if (existing.defined() && existing.dtype() == x.dtype()) {
        kernels::rmsnorm_backward(x, weight, inv_rms, grads[0], existing, dweight, true);
        return;
      }
      Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
      kernels::rmsnorm_backward(x, weight, inv_rms, grads[0], dx, dweight);
      accumulate_fresh_grad(x, dx);
    });
  }
  return y;
}

}  // namespace birdie::autograd
