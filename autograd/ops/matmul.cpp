#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/matmul.h"

namespace birdie::autograd {

namespace {
// grad(target) += op(a) · op(b), straight into the gradient buffer (β = 1).
void accumulate_product(const Tensor& target, const Tensor& a, bool ta, const Tensor& b,
                        bool tb) {
  Tensor g = grad_buffer(target);
  if (g.defined()) kernels::matmul(a, ta, b, tb, g, 1.0, 1.0);
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  Tensor c = Tensor::empty(kernels::matmul_output_shape(a, trans_a, b, trans_b), a.dtype(),
                           a.device());
  kernels::matmul(a, trans_a, b, trans_b, c);
  if (needs_grad({&a, &b})) {
    record("matmul", {a, b}, {c}, [a, b, trans_a, trans_b](const std::vector<Tensor>& grads) {
      const Tensor& dc = grads[0];
      // C = op(A) op(B): the four transpose cases of dA and dB.
      if (!trans_a) accumulate_product(a, dc, false, b, !trans_b);
      else          accumulate_product(a, b, trans_b, dc, true);
      if (!trans_b) accumulate_product(b, a, !trans_a, dc, false);
      else          accumulate_product(b, dc, true, a, trans_a);
    });
  }
  return c;
}

}  // namespace birdie::autograd
