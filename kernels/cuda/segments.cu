// Segment bounds of packed rows from their reset bits: a block per row, each thread a
// contiguous chunk of tokens. A thread finds the last segment start in its chunk and the
// first one after t = 0; a block-wide scan (prefix max, suffix min) gives every chunk the
// start it inherits from the left and the end it inherits from the right; a second pass
// over the chunk writes start and end of each token. O(T) work, O(T/threads + log threads)
// steps per row.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/segments.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int segment_threads = 256;

__global__ void __launch_bounds__(segment_threads)
segment_bounds_kernel(const std::int32_t* __restrict__ reset, std::int64_t T, std::int32_t* __restrict__ start,
                      std::int32_t* __restrict__ end) {
  __shared__ std::int32_t last_start[segment_threads], first_start[segment_threads];
  const std::int64_t b = blockIdx.x;
  const std::int32_t* r = reset + b * T;
  const int x = threadIdx.x;
  const std::int64_t chunk = (T + segment_threads - 1) / segment_threads;
  const std::int64_t lo = min(T, x * chunk), hi = min(T, lo + chunk);
  const auto starts_segment = [&](std::int64_t t) { return t == 0 || (r[t] & 1); };
  std::int32_t last = -1, first = static_cast<std::int32_t>(T);
  for (std::int64_t t = lo; t < hi; ++t)
    if (starts_segment(t)) {
      if (t > 0 && first == T) first = static_cast<std::int32_t>(t);
      last = static_cast<std::int32_t>(t);
    }
  last_start[x] = last;
  first_start[x] = first;
  __syncthreads();
  // Hillis-Steele scans: last_start[x] becomes the max over chunks ≤ x, first_start[x]
  // the min over chunks ≥ x.
  for (int o = 1; o < segment_threads; o <<= 1) {
    const std::int32_t l = x >= o ? last_start[x - o] : -1;
    const std::int32_t f = x + o < segment_threads ? first_start[x + o] : static_cast<std::int32_t>(T);
    __syncthreads();
    last_start[x] = max(last_start[x], l);
    first_start[x] = min(first_start[x], f);
    __syncthreads();
  }
  std::int32_t s = x > 0 ? last_start[x - 1] : 0;
  for (std::int64_t t = lo; t < hi; ++t) {
    if (starts_segment(t)) s = static_cast<std::int32_t>(t);
    start[b * T + t] = s;
  }
  std::int32_t e = x + 1 < segment_threads ? first_start[x + 1] : static_cast<std::int32_t>(T);
  for (std::int64_t t = hi - 1; t >= lo; --t) {
    end[b * T + t] = e;
    if (t > 0 && (r[t] & 1)) e = static_cast<std::int32_t>(t);
  }
}

}  // namespace

void segment_bounds(const std::int32_t* reset, std::int64_t B, std::int64_t T, std::int32_t* start,
                    std::int32_t* end, cudaStream_t stream) {
  if (B * T == 0) return;
  BIRDIE_CHECK(B <= 2147483647, "segment bounds (CUDA): batch ", B, " exceeds the grid");
  BIRDIE_CHECK(T < (std::int64_t{1} << 31), "segment bounds (CUDA): time ", T, " exceeds the i32 bounds");
  segment_bounds_kernel<<<static_cast<unsigned>(B), segment_threads, 0, stream>>>(reset, T, start, end);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
