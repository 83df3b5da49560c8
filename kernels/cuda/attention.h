// Launchers of the CUDA attention (kernels/cuda/attention.cu). q, k, v, out, dout, dq,
// dk, dv: contiguous [B, T, H, Dh] of `dtype` (f32 or bf16), Dh ≤ 128; reset [B, T] i32;
// bounds [2, B, T] i32 its segments' starts and ends (kernels/segments.h, computed once per
// batch); lse [B, H, T] f32. Scores, softmax and every sum in f32. Scratch (the backward's row dot
// products) is allocated on the stream and freed on it. bf16 at Dh 64
// or 128 with 16-byte-aligned operands runs on tensor cores (attention_tensor_core.h),
// everything else on the CUDA-core kernels (attention.cu says how each works).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

constexpr std::int64_t attention_max_head_dim = 128;

void attention_forward(DType dtype, const void* q, const void* k, const void* v,
                       const std::int32_t* reset, const std::int32_t* bounds, bool prefix, std::int64_t B, std::int64_t T,
                       std::int64_t H, std::int64_t Dh, void* out, float* lse, cudaStream_t stream);
// dq, dk, dv overwritten. Deterministic: no atomics (dk/dv and dq in separate passes).
void attention_backward(DType dtype, const void* q, const void* k, const void* v,
                        const std::int32_t* reset, const std::int32_t* bounds, bool prefix, std::int64_t B, std::int64_t T,
                        std::int64_t H, std::int64_t Dh, const void* out, const float* lse,
                        const void* dout, void* dq, void* dk, void* dv, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
