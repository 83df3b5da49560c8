// Launchers of the tensor-core attention (kernels/cuda/attention_tensor_core.cu), called
// by the launchers of kernels/cuda/attention.h, which pick them for bf16 at head
// dimension 64 or 128 with 16-byte-aligned operands (attention_tensor_cores_apply) and
// keep the CUDA-core kernels for the rest. Operands as in attention.h: q, k, v, out,
// dout, dq, dk, dv contiguous [B, T, H, Dh] bf16; reset [B, T] i32; start/end [B, T] i32
// the segment bounds of every token (kernels/segments.h); lse [B, H, T] f32;
// delta [B, H, T] f32 = rowsum(dout ⊙ out).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

bool attention_tensor_cores_apply(DType dtype, std::int64_t Dh, std::initializer_list<const void*> operands);

void attention_forward_tensor_cores(const void* q, const void* k, const void* v, const std::int32_t* reset,
                                    const std::int32_t* start, const std::int32_t* end, bool prefix,
                                    std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh, void* out,
                                    float* lse, cudaStream_t stream);
// dq, dk, dv overwritten; deterministic (dk/dv and dq in two kernels, no atomics).
void attention_backward_tensor_cores(const void* q, const void* k, const void* v, const std::int32_t* reset,
                                     const std::int32_t* start, const std::int32_t* end, bool prefix,
                                     std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh,
                                     const float* lse, const float* delta, const void* dout, void* dq, void* dk,
                                     void* dv, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
