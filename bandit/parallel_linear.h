// A differentiable Linear for the critic's training: y = x·Wᵀ (+ b), x [..., in],
// W [out, in], f32 on the CPU, the same math as autograd::linear, with every product of
// the forward and backward pass split across the OpenMP threads (forward and the bias by
// output columns, dX by input columns, dW by weight rows), each part one single-threaded
// OpenBLAS call. The critic's history is ~40 rows, for which OpenBLAS itself runs one
// thread; splitting the products by hand puts both cores of the bench machine to work.
// The partition depends only on the thread count, so results are reproducible run to run.
#pragma once

#include "engine/tensor.h"

namespace birdie::bandit {

Tensor parallel_linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace birdie::bandit
