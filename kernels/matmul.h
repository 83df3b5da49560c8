// Matrix products. C = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ.
// Rank 2: A [M, K] ([K, M] if trans_a), B [K, N] ([N, K] if trans_b), C [M, N].
// Rank 3: the same per batch entry, A, B and C all [batch, ...].
// beta = 1 accumulates into C (how weight gradients are summed).
// CPU: f32 through OpenBLAS, f64 through plain loops (for gradient checks).
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha = 1.0, double beta = 0.0);

// The output shape of matmul for these operands (validates them).
Shape matmul_output_shape(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b);

}  // namespace birdie::kernels
