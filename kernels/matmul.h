// Matrix products. C = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ.
// Rank 2: A [M, K] ([K, M] if trans_a), B [K, N] ([N, K] if trans_b), C [M, N].
// Rank 3: the same per batch entry, A, B and C all [batch, ...].
// beta = 1 accumulates into C (how weight gradients are summed).
// dtypes, both devices: f32, f64, or bf16 operands; with bf16 operands C may be bf16 or
// f32 (a bf16 product summed into an f32 gradient, in f32: C is never rounded to bf16).
// CPU: f32 through OpenBLAS, f64 through plain loops (for gradient checks), bf16 emulated
// (operands widened to f32, the f32 product, C rounded once; kernels/cpu/bf16_emulation.h).
// CUDA: cuBLASLt with f32 accumulation (f32 is exact fp32, no TF32).
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha = 1.0, double beta = 0.0);

// Work fused into the product's epilogue (one cuBLASLt call on the GPU; composed from the
// plain kernels on the CPU, which is the reference, with one rounding of a bf16 C).
// Rank-2 operands; the vectors have C's dtype. At most one of bias and bias_gradient.
//   bias [N]:          C = alpha·op(A)·op(B) + beta·C + bias (bias added to every row).
//   bias_gradient [M]: overwritten with Σ_k op(A)[i, k], i.e. for a weight gradient
//                      dW = dYᵀ·X (A = dY, trans_a) the bias gradient Σ_rows dY.
//   addend [M, N]:     read in place of C, which is then only written:
//                      C = alpha·op(A)·op(B) + beta·addend (+ bias). With beta = 1 this is
//                      a residual connection, out = x + y·Wᵀ, in the product's own pass
//                      (cuBLASLt's C ≠ D). C's dtype; it may be C itself.
// GeLU epilogues are not offered: cuBLASLt's GELU is the tanh approximation, the engine's
// GeLU is the exact erf form, and the model's GeLU is fused into the scan anyway.
struct MatmulEpilogue {
  Tensor bias{};
  Tensor bias_gradient{};
  Tensor addend{};
};
void matmul_fused(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
                  const MatmulEpilogue& epilogue, double alpha = 1.0, double beta = 0.0);

// The output shape of matmul for these operands (validates them).
Shape matmul_output_shape(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b);

}  // namespace birdie::kernels
