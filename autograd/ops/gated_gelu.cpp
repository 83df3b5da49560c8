#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/gated_gelu.h"

namespace birdie::autograd {

Tensor gelu_mul(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like(a);
  kernels::gelu_mul_forward(a, b, out);
  if (needs_grad({&a, &b})) {
    record("gelu_mul", {a, b}, {out}, [a, b](const std::vector<Tensor>& grads) {
      Tensor da = empty_like(a), db = empty_like(b);
      kernels::gelu_mul_backward(a, b, grads[0], da, db);
      accumulate_fresh_grad(a, da);
      accumulate_fresh_grad(b, db);
    });
  }
  return out;
}

Tensor geglu(const Tensor& x) {
  BIRDIE_CHECK(x.rank() >= 1, "geglu: the input needs a last dimension, got ", x.describe());
  Tensor out = Tensor::empty(with_last(x.shape(), x.dim(-1) / 2), x.dtype(), x.device());
  kernels::geglu_forward(x, out);
  if (needs_grad({&x})) {
    record("geglu", {x}, {out}, [x](const std::vector<Tensor>& grads) {
      Tensor dx = empty_like(x);
      kernels::geglu_backward(x, grads[0], dx);
      accumulate_fresh_grad(x, dx);
    });
  }
  return out;
}

}  // namespace birdie::autograd
