// Launchers of the CUDA RG-LRU scan (kernels/cuda/rglru.cu). Host-callable, raw pointers;
// the Tensor-level validation and dispatch live in kernels/rglru.cpp, the semantics in
// kernels/rglru.h.
//
// The three-pass chunked scan of the gated scan's three_pass kernel (kernels/cuda/scan.h),
// with the RG-LRU's gates computed in the loads: the time axis, in each lane's scan order,
// is cut into chunks of rglru_chunk_length steps. Forward: (1) each chunk reduces its
// recurrence to h_end = A·h_start + B, (2) a carry scan over chunks gives every chunk's
// entering state, which is the `saved` tensor [B, chunks, C] (f32), (3) each chunk rescans
// from its entering state and writes y. Backward: the adjoint recurrence
// carry ← a·(carry + dy) runs the same three phases right to left; the last phase rebuilds
// the chunk's states from `saved`, walks it back writing dx and dgates, and leaves each
// lane's share of dlambda in scratch, which a last kernel sums per channel in a fixed order
// (deterministic, no atomics) and adds into dlambda.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

constexpr std::int64_t rglru_chunk_length = 16;

inline std::int64_t rglru_chunk_count(std::int64_t T) {
  return (T + rglru_chunk_length - 1) / rglru_chunk_length;
}

// Which kernels rglru_scan_forward/backward run. three_pass (the default, measured on an
// H200): the passes above. one_pass (rglru_one_pass.cu): the gated scan's long tiles
// (one_pass_tile64 of kernels/cuda/scan.h) with the RG-LRU's gates: 4 chunks a tile on 4
// warps, the entering state by decoupled look-back, each projection read once. Both write
// the same `saved`, so either backward takes either forward's. Chosen by set_rglru_kernel,
// else the environment's BIRDIE_RGLRU_KERNEL (a name of rglru_kernel_name), else three_pass.
enum class RglruKernel { three_pass, one_pass };
inline constexpr RglruKernel rglru_kernels[] = {RglruKernel::three_pass, RglruKernel::one_pass};
RglruKernel rglru_kernel();
void set_rglru_kernel(RglruKernel kernel);
void clear_rglru_kernel_choice();  // back to the environment's (or the default) choice
const char* rglru_kernel_name(RglruKernel kernel);

// f32 elements of scratch rglru_scan_forward and rglru_scan_backward need (either kernel:
// the one-pass kernels' look-back planes and dlambda shares take at most 6 of
// [B, chunks, C], the three-pass ones 4).
inline std::int64_t rglru_scratch_elements(std::int64_t B, std::int64_t T, std::int64_t C) {
  return 6 * B * rglru_chunk_count(T) * C + 4;
}

// dtype: f32 or bf16 (x, gates, out_gate, y, dy, dx, dgates, dout_gate all of it; x, out_gate
// [B, T, C], gates [B, T, 2C] as in kernels/rglru.h; out_gate null: no output gate, y = h,
// and dout_gate unused). lambda, dlambda: f32 [C]. saved: f32 [B, chunks, C]. scratch: f32,
// rglru_scratch_elements(B, T, C).
void rglru_scan_forward(DType dtype, const void* x, const void* gates, const void* out_gate, const float* lambda,
                        const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T,
                        std::int64_t C, void* y, float* saved, float* scratch, cudaStream_t stream);
void rglru_scan_backward(DType dtype, const void* x, const void* gates, const void* out_gate, const float* lambda,
                         const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T,
                         std::int64_t C, const float* saved, const void* dy, void* dx, void* dgates, void* dout_gate,
                         float* dlambda, float* scratch, cudaStream_t stream);

// The one-pass kernels themselves (what the two above call for one_pass).
void rglru_scan_forward_one_pass(DType dtype, const void* x, const void* gates, const void* out_gate,
                                 const float* lambda, const std::int32_t* reset, bool bidirectional, std::int64_t B,
                                 std::int64_t T, std::int64_t C, void* y, float* saved, float* scratch,
                                 cudaStream_t stream);
void rglru_scan_backward_one_pass(DType dtype, const void* x, const void* gates, const void* out_gate,
                                  const float* lambda, const std::int32_t* reset, bool bidirectional, std::int64_t B,
                                  std::int64_t T, std::int64_t C, const float* saved, const void* dy, void* dx,
                                  void* dgates, void* dout_gate, float* dlambda, float* scratch,
                                  cudaStream_t stream);

}  // namespace birdie::kernels::cuda
