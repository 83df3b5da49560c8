// Segment bounds of packed rows from their reset bits (kernels/scan.h), for the attention
// and rotary kernels (included by .cu files only).
#pragma once

#include <cstdint>

namespace birdie::kernels::cuda {
namespace {

// start[b, t] = first token of t's segment (a segment starts at t = 0 and wherever bit 0
// is set); end[b, t] = one past its last token. A thread per row walks it once each way:
// O(T) per row, negligible next to the attention itself. `end` may be null.
__global__ void segment_bounds_kernel(const std::int32_t* __restrict__ reset, std::int64_t B,
                                      std::int64_t T, std::int32_t* __restrict__ start,
                                      std::int32_t* __restrict__ end) {
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const std::int32_t* r = reset + b * T;
  std::int32_t s = 0;
  for (std::int64_t t = 0; t < T; ++t) {
    if (r[t] & 1) s = static_cast<std::int32_t>(t);
    start[b * T + t] = s;
  }
  if (!end) return;
  std::int32_t e = static_cast<std::int32_t>(T);
  for (std::int64_t t = T - 1; t >= 0; --t) {
    end[b * T + t] = e;
    if (t > 0 && (r[t] & 1)) e = static_cast<std::int32_t>(t);
  }
}

// Its launch: a thread per row (the launches stay in the .cu files, where the host
// emulation of scripts/emulate_cuda_kernels.py rewrites them).
constexpr int segment_bounds_threads = 128;
inline unsigned segment_bounds_blocks(std::int64_t B) {
  return static_cast<unsigned>((B + segment_bounds_threads - 1) / segment_bounds_threads);
}

}  // namespace
}  // namespace birdie::kernels::cuda
