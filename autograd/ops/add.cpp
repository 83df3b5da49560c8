#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like(a);
  kernels::add(a, b, out);
  if (needs_grad({&a, &b})) {
    record("add", {a, b}, {out}, [a, b](const std::vector<Tensor>& grads) {
      if (b.requires_grad()) accumulate_grad(b, reduce_to(grads[0], b));
      accumulate_output_grad(a, grads[0]);
    });
  }
  return out;
}

}  // namespace birdie::autograd
