// Launchers of the CUDA decoding attention and rotary embedding at one position
// (kernels/cuda/attention_decode.cu): q, out [H, Dh]; k, v [n, H, Dh]; x, y [H, Dh]; all
// contiguous, of `dtype` (f32 or bf16).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

void attention_decode(DType dtype, const void* q, const void* k, const void* v, std::int64_t n,
                      std::int64_t H, std::int64_t Dh, void* out, cudaStream_t stream);
void rotary_at_position(DType dtype, const void* x, std::int64_t position, double base, std::int64_t H,
                        std::int64_t Dh, void* y, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
