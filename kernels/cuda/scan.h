// Launchers of the CUDA gated scan (kernels/cuda/scan.cu). Host-callable, raw pointers;
// the Tensor-level validation and dispatch live in kernels/scan.cpp.
//
// The time axis (in each lane's own scan order: left to right for causal channels, right
// to left for the reverse half of a bidirectional scan) is cut into chunks of
// `scan_chunk_length` steps. Forward: (1) each chunk reduces its recurrence to
// h_end = A·h_start + B (gates computed in the load), (2) a carry scan over chunks gives
// every chunk's entering state, which is the `saved` tensor [B, chunks, N] (f32),
// (3) each chunk rescans from its entering state and writes y. Backward: the adjoint
// recurrence carry ← f·(carry + dy·GeLU(o)) runs the same three phases right to left,
// and the last phase recomputes the chunk's states from `saved` before walking it back.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

constexpr std::int64_t scan_chunk_length = 16;

inline std::int64_t scan_chunk_count(std::int64_t T) {
  return (T + scan_chunk_length - 1) / scan_chunk_length;
}

// dtype: f32 or bf16 (proj, y, dy, dproj all of it). saved: f32 [B, chunks, N].
// scratch: f32, 2·B·chunks·N (forward) or 3·B·chunks·N (backward) elements.
void gated_scan_forward(DType dtype, const void* proj, const std::int32_t* reset,
                        bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                        void* y, float* saved, float* scratch, cudaStream_t stream);
void gated_scan_backward(DType dtype, const void* proj, const std::int32_t* reset,
                         bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                         const float* saved, const void* dy, void* dproj, float* scratch,
                         cudaStream_t stream);

}  // namespace birdie::kernels::cuda
