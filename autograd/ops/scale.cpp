#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

Tensor scale(const Tensor& a, double factor) {
  Tensor out = empty_like(a);
  kernels::scale(a, factor, out);
  if (needs_grad({&a})) {
    record("scale", {a}, {out}, [a, factor](const std::vector<Tensor>& grads) {
      Tensor da = empty_like(a);
      kernels::scale(grads[0], factor, da);
      accumulate_fresh_grad(a, da);
    });
  }
  return out;
}

}  // namespace birdie::autograd
