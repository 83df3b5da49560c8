// Launchers of the CUDA recurrent-generation scan (kernels/cuda/scan_step.cu), the
// semantics of kernels/scan_step.h. Host-callable, raw pointers; validation and dispatch
// live in kernels/scan_step.cpp. One thread per (row, channel): a step is O(N) and
// trivially parallel; the final state walks each row's prompt in one thread, which is
// fine for a computation that runs once per generation.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// dtype: f32 or bf16 (proj [B, T, 4N]); state: f32 [B, N], written.
void gated_scan_final_state(DType dtype, const void* proj, const std::int32_t* reset,
                            bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                            float* state, cudaStream_t stream);
// dtype: f32 or bf16 (proj [B, 4N] and y [B, N]); state: f32 [B, N], read and updated.
void gated_scan_step(DType dtype, const void* proj, bool bidirectional, std::int64_t B,
                     std::int64_t N, float* state, void* y, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
