// Launchers of the CUDA one-token Hawk kernels (kernels/cuda/rglru_step.cu), the semantics
// of kernels/rglru_step.h. Host-callable, raw pointers; validation and dispatch live in
// kernels/rglru_step.cpp. One thread per (row, channel), like kernels/cuda/scan_step.h.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// dtype: f32 or bf16 (x [B, T, C], gates [B, T, 2C]); lambda f32 [C]; state f32 [B, C], written.
void rglru_final_state(DType dtype, const void* x, const void* gates, const float* lambda,
                       const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t C,
                       float* state, cudaStream_t stream);
// dtype: f32 or bf16 (x [B, C], gates [B, 2C], y [B, C]); state f32 [B, C], read and updated.
void rglru_step(DType dtype, const void* x, const void* gates, const float* lambda, bool bidirectional,
                std::int64_t B, std::int64_t C, float* state, void* y, cudaStream_t stream);
// dtype: f32 or bf16 for x [B, C], weight [K, C], bias [C], window [B, K-1, C] (read and
// shifted) and y [B, C].
void conv1d_step(DType dtype, const void* x, const void* weight, const void* bias, bool bidirectional,
                 std::int64_t B, std::int64_t C, std::int64_t K, void* window, void* y, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
