// Launcher of the segment bounds of packed rows (kernels/cuda/segments.cu): reset [B, T]
// i32 → start, end [B, T] i32 (kernels/segments.h says what they hold).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace birdie::kernels::cuda {

void segment_bounds(const std::int32_t* reset, std::int64_t B, std::int64_t T, std::int32_t* start,
                    std::int32_t* end, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
