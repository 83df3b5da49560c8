#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

namespace {
Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

// The gradient of a broadcast operand: summed over the dimensions it was broadcast along,
// in the dtype of the operand's gradient (a bf16 bias's gradient is the fp32 master
// gradient: the sum goes there without a bf16 rounding in between).
Tensor reduce_to(const Tensor& grad, const Tensor& operand) {
  if (grad.shape() == operand.shape()) return grad;
  const Tensor existing = operand.grad();
  Tensor reduced = Tensor::empty(operand.shape(), existing.defined() ? existing.dtype() : operand.dtype(),
                                 operand.device());
  kernels::sum_to_trailing(grad, reduced);
  return reduced;
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like(a);
  kernels::add(a, b, out);
  if (needs_grad({&a, &b})) {
    record("add", {a, b}, {out}, [a, b](const std::vector<Tensor>& grads) {
      accumulate_grad(a, grads[0]);
      if (b.requires_grad()) accumulate_grad(b, reduce_to(grads[0], b));
    });
  }
  return out;
}

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

Tensor gelu(const Tensor& x) {
  Tensor y = empty_like(x);
  kernels::gelu_forward(x, y);
  if (needs_grad({&x})) {
    record("gelu", {x}, {y}, [x](const std::vector<Tensor>& grads) {
      Tensor dx = empty_like(x);
      kernels::gelu_backward(x, grads[0], dx);
      accumulate_fresh_grad(x, dx);
    });
  }
  return y;
}

Tensor sum(const Tensor& x) {
  // A bf16 sum is kept in f32 (summed in f64 either way), on the device.
  Tensor out = Tensor::empty({1}, x.dtype() == DType::bf16 ? DType::f32 : x.dtype(), x.device());
  kernels::sum_into(x, 1.0, out);
  if (needs_grad({&x})) {
    record("sum", {x}, {out}, [x](const std::vector<Tensor>& grads) {
      Tensor dx = Tensor::full(x.shape(), 1.0, x.dtype(), x.device());
      if (!is_backward_seed(grads[0])) kernels::scale_inplace(dx, grads[0]);
      accumulate_fresh_grad(x, dx);
    });
  }
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.reshape(shape);
  if (needs_grad({&x})) {
    record("reshape", {x}, {y}, [x](const std::vector<Tensor>& grads) {
      accumulate_grad(x, grads[0].reshape(x.shape()));
    });
  }
  return y;
}

}  // namespace birdie::autograd
