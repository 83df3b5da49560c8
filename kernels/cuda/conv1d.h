// Launchers of the CUDA causal convolution with resets (kernels/cuda/conv1d.cu).
// Host-callable, raw pointers; the Tensor-level validation and dispatch live in
// kernels/conv1d.cpp, the semantics in kernels/conv1d.h.
//
// Forward and dx: one thread an output element, channels fastest (coalesced), the few
// terms of the width-K window read straight from global memory (the window is 4 rows; the
// kernel is memory-bound and the rows come from L1/L2). dweight and dbias: a thread per
// (chunk of conv1d_rows_per_partial rows, channel) walks its rows once, the window of K
// inputs in registers, and writes f32 partial sums [partials, K + 1, C] to scratch; a
// second kernel adds them, in row order, into dweight and dbias: deterministic, no atomics.
// Widths up to conv1d_max_width (Hawk's is 4).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// 64 rows a chunk: enough threads in flight at Hawk's widths (C of 768 over 16k rows makes
// 196k), few enough partials for the finishing pass.
constexpr std::int64_t conv1d_rows_per_partial = 64;
constexpr std::int64_t conv1d_max_width = 16;

// f32 elements of scratch causal_conv1d_backward needs.
inline std::int64_t conv1d_scratch_elements(std::int64_t B, std::int64_t T, std::int64_t C,
                                            std::int64_t K) {
  const std::int64_t partials = (B * T + conv1d_rows_per_partial - 1) / conv1d_rows_per_partial;
  return partials * (K + 1) * C + 1;
}

// dtype: f32 or bf16 (x, weight, bias, y, dy, dx all of it). dweight_dtype: dweight's and
// dbias's, dtype or f32.
void causal_conv1d_forward(DType dtype, const void* x, const void* weight, const void* bias,
                           const std::int32_t* reset, bool bidirectional, std::int64_t B,
                           std::int64_t T, std::int64_t C, std::int64_t K, void* y,
                           cudaStream_t stream);
void causal_conv1d_backward(DType dtype, DType dweight_dtype, const void* x, const void* weight,
                            const std::int32_t* reset, bool bidirectional, std::int64_t B,
                            std::int64_t T, std::int64_t C, std::int64_t K, const void* dy,
                            void* dx, void* dweight, void* dbias, float* scratch,
                            cudaStream_t stream);

}  // namespace birdie::kernels::cuda
