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

// Which kernels gated_scan_forward/backward run. three_pass: the reduce → carries →
// rescan passes above (the first kernel, kept selectable). one_pass
// (kernels/cuda/scan_one_pass.cu): a warp a tile; each chunk is loaded once into shared
// memory, reduced, given its entering state by decoupled look-back over the chunks before
// it (chained through each chunk's published aggregate or inclusive state, always composed
// in chunk order, so the results do not depend on timing), then rescanned from shared
// memory; the backward likewise, right to left. one_pass_split4 and one_pass_split8
// (scan_one_pass_split.cu): the same look-back, each tile's 16 steps split across 4 or 8
// warps of its block, for several times the warps on a SM. one_pass_tile32 and
// one_pass_tile64 (the same file): tiles of 2 or 4 chunks on 4 warps and half or a quarter
// of the channels, so that the chain of look-backs along a row is 2 or 4 times shorter.
// All write the same `saved` (the states entering each chunk), so any backward accepts any
// forward's. by_shape, the default: the backward one_pass_split4, the forward one_pass
// when a chunk has at most 64 tiles (rows × state width × element size ≤ 32 KiB),
// one_pass_split4 otherwise: with few tiles a chunk the split kernel's warps wait together
// on one warp's look-back.
enum class ScanKernel {
  three_pass,
  one_pass,
  one_pass_split4,
  one_pass_split8,
  one_pass_tile32,
  one_pass_tile64,
  by_shape
};
inline constexpr ScanKernel scan_kernels[] = {ScanKernel::three_pass,      ScanKernel::one_pass,
                                              ScanKernel::one_pass_split4, ScanKernel::one_pass_split8,
                                              ScanKernel::one_pass_tile32, ScanKernel::one_pass_tile64,
                                              ScanKernel::by_shape};

// set_scan_kernel's choice if one was made, else the environment's BIRDIE_SCAN_KERNEL
// (a name of scan_kernel_name; anything else is an error naming the variable), else
// by_shape. (On an H200 one_pass_split4 passed every GPU suite and the sanitizers; at
// 8 x 2048 x 2560, 80 tiles a chunk, it ran 16-23% faster than one_pass, and its backward
// was faster at every shape measured, but one_pass's forward was 10-17% faster with fewer
// tiles a chunk, at 16 x 4096 x 768 (48) and, by the profiles, 4 x 2048 x 2560 (40), the
// paper step's: bench/RESULTS.md.)
ScanKernel scan_kernel();
void set_scan_kernel(ScanKernel kernel);
void clear_scan_kernel_choice();  // back to the environment's (or the default) choice
const char* scan_kernel_name(ScanKernel kernel);

// f32 elements of scratch gated_scan_forward and gated_scan_backward need (any kernel: the
// one-pass kernels' status planes take at most 5 of B·chunks·N, the three-pass ones 4).
inline std::int64_t scan_scratch_elements(std::int64_t B, std::int64_t T, std::int64_t N) {
  return 5 * B * scan_chunk_count(T) * N + 4;
}

// dtype: f32 or bf16 (proj, y, dy, dproj all of it). saved: f32 [B, chunks, N].
// scratch: f32, scan_scratch_elements(B, T, N).
void gated_scan_forward(DType dtype, const void* proj, const std::int32_t* reset,
                        bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                        void* y, float* saved, float* scratch, cudaStream_t stream);
void gated_scan_backward(DType dtype, const void* proj, const std::int32_t* reset,
                         bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                         const float* saved, const void* dy, void* dproj, float* scratch,
                         cudaStream_t stream);

// The one-pass kernels themselves (what gated_scan_forward/backward call for one_pass,
// and for the split kernels: one_pass_split4/8, one_pass_tile32/64).
void gated_scan_forward_one_pass(DType dtype, const void* proj, const std::int32_t* reset,
                                 bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                 void* y, float* saved, float* scratch, cudaStream_t stream);
void gated_scan_backward_one_pass(DType dtype, const void* proj, const std::int32_t* reset,
                                  bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                  const float* saved, const void* dy, void* dproj, float* scratch,
                                  cudaStream_t stream);
bool is_split_scan_kernel(ScanKernel kernel);
void gated_scan_forward_split(ScanKernel kernel, DType dtype, const void* proj, const std::int32_t* reset,
                              bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N, void* y,
                              float* saved, float* scratch, cudaStream_t stream);
void gated_scan_backward_split(ScanKernel kernel, DType dtype, const void* proj, const std::int32_t* reset,
                               bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                               const float* saved, const void* dy, void* dproj, float* scratch,
                               cudaStream_t stream);

}  // namespace birdie::kernels::cuda
