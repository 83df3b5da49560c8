// Launchers of the CUDA decoding attention and rotary embedding at one position
// (kernels/cuda/attention_decode.cu): q, out [H, Dh]; k, v [n, H, Dh]; x, y [H, Dh]; all
// contiguous, of `dtype` (f32 or bf16). Then the same for B rows at once, each with its
// own cache and position read on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

void attention_decode(DType dtype, const void* q, const void* k, const void* v, std::int64_t n,
                      std::int64_t H, std::int64_t Dh, void* out, cudaStream_t stream);
void rotary_at_position(DType dtype, const void* x, std::int64_t position, double base, std::int64_t H,
                        std::int64_t Dh, void* y, cudaStream_t stream);

// Batched decoding over a cache per row (kernels/attention_decode.h): q, k, v, out
// [B, H, Dh]; keys, values [B, capacity, H, Dh]; positions [B] i32 on the device.
void append_to_cache(DType dtype, void* q, const void* k, const void* v, const std::int32_t* positions, double base,
                     std::int64_t B, std::int64_t H, std::int64_t Dh, std::int64_t capacity, void* keys, void* values,
                     cudaStream_t stream);
void attention_decode_cached(DType dtype, const void* q, const void* keys, const void* values,
                             const std::int32_t* positions, std::int64_t B, std::int64_t H, std::int64_t Dh,
                             std::int64_t capacity, void* out, cudaStream_t stream);
void advance_positions(std::int32_t* positions, std::int64_t B, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
