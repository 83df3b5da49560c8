// What the ops' files (autograd/ops/<op>.cpp) share: the gradient tensor a backward rule
// writes into in place (scatter-add, β = 1 matmul, a parameter's gradient a kernel
// accumulates into), avoiding a temporary and a separate accumulation; a broadcast
// operand's gradient; and shapes.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace birdie::autograd {

// The gradient tensor of `input`, created as zeros on first use; undefined when the
// input does not require a gradient.
Tensor grad_buffer(const Tensor& input);

// The gradient of a parameter, accumulated into in place; a throwaway zero tensor when the
// parameter takes no gradient (the kernel writes the other gradients all the same).
Tensor accumulation_target(const Tensor& parameter);

// The gradient of a broadcast operand: summed over the dimensions it was broadcast along,
// in the dtype of the operand's gradient (a bf16 bias's gradient is the fp32 master
// gradient: the sum goes there without a bf16 rounding in between).
Tensor reduce_to(const Tensor& grad, const Tensor& operand);

// An uninitialized tensor of t's shape, dtype and device.
inline Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype(), t.device()); }

// `shape` with its last dimension `width`.
inline Shape with_last(Shape shape, std::int64_t width) {
  shape.back() = width;
  return shape;
}

}  // namespace birdie::autograd
