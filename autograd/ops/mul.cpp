#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like(a);
  kernels::mul(a, b, out);
  if (needs_grad({&a, &b})) {
    record("mul", {a, b}, {out}, [a, b](const std::vector<Tensor>& grads) {
      if (a.requires_grad()) {
        Tensor da = empty_like(a);
        kernels::mul(grads[0], b, da);
        accumulate_fresh_grad(a, da);
      }
      if (b.requires_grad()) {
        Tensor db = empty_like(a);
        kernels::mul(grads[0], a, db);
        accumulate_fresh_grad(b, reduce_to(db, b));
      }
    });
  }
  return out;
}

}  // namespace birdie::autograd
