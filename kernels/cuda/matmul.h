// cuBLASLt matrix products (kernels/cuda/matmul.cpp, host code only). Row-major operands
// as in kernels/matmul.h: C[M, N] = alpha · op(A) · op(B) + beta · C (+ bias), batched
// with a fixed stride when batch > 1.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

struct GemmCall {
  DType ab = DType::f32;  // A and B: f32, f64 or bf16
  DType c = DType::f32;   // C: the A/B dtype, or f32 with bf16 operands
  bool trans_a = false, trans_b = false;
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  void* c_data = nullptr;  // D, and C unless c_input is set
  const void* c_input = nullptr;  // C when it is not D (same shape and dtype): D = αAB + βC
  double alpha = 1.0, beta = 0.0;
  // Epilogues (batch 1 only), vectors of C's dtype:
  const void* bias = nullptr;   // [N] added to every row of C
  void* bias_gradient = nullptr;  // [M] = Σ_k op(A)[i, k], overwritten
};

// Runs the product on `stream`. Descriptors and the heuristic's algorithm are cached per
// (shape, transposes, dtypes, epilogue, pointer alignments); one 32 MiB workspace. When
// cuBLASLt offers no algorithm for a fused epilogue, returns false without running
// anything, and the caller composes the product from plain kernels.
bool gemm(const GemmCall& call, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
