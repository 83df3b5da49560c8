// Helpers for backward rules that write into an input's gradient in place (scatter-add,
// β = 1 matmul), avoiding a temporary and a separate accumulation.
#pragma once

#include "engine/tensor.h"

namespace birdie::autograd {

// The gradient tensor of `input`, created as zeros on first use; undefined when the
// input does not require a gradient.
Tensor grad_buffer(const Tensor& input);

}  // namespace birdie::autograd
