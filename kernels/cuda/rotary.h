// Launcher of the CUDA rotary embedding (kernels/cuda/rotary.cu): x, y contiguous
// [B, T, H, Dh] of `dtype` (f32 or bf16), Dh even; start [B, T] i32 the
// segment start of every token (kernels/segments.h); `sign` +1 rotates
// by θ (forward), −1 by −θ (backward). y may be x.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

void rotary(DType dtype, const void* x, const std::int32_t* start, double base, int sign,
            std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh, void* y,
            cudaStream_t stream);

}  // namespace birdie::kernels::cuda
