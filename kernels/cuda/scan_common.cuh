// What the chunked scans share, the three-pass (scan.cu) and one-pass (scan_one_pass.cu)
// gated scans and the RG-LRU scan (rglru.cu): the call's shape, the time order of a lane,
// the reset rule, the choice of vector width, the grid, and the scan over chunk carries.
#pragma once

#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "engine/dtype.h"
#include "engine/error.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"

namespace birdie::kernels::cuda {

struct ScanShape {
  std::int64_t B, T, N, C;  // C: chunks of scan_chunk_length steps
  bool bidirectional;
};

// Step `step` of a lane's scan order is time t: left to right, or right to left for the
// reverse half of a bidirectional scan.
__device__ __forceinline__ std::int64_t time_at(const ScanShape& s, bool reverse, std::int64_t step) {
  return reverse ? s.T - 1 - step : step;
}

// The forget gate is forced to 0 where no state may flow in (kernels/scan.h).
__device__ __forceinline__ bool blocked(const std::int32_t* reset_row, const ScanShape& s,
                                        bool reverse, std::int64_t t) {
  if (!reverse) return (reset_row[t] & 1) != 0;
  return t == s.T - 1 || (reset_row[t + 1] & 1) != 0 || (reset_row[t] & 2) != 0;
}

// A thread's place in a chunked scan (scan.cu, rglru.cu): its first channel, direction,
// batch row and chunk, and the chunk's steps in scan order.
struct ScanLane {
  std::int64_t c0;            // first channel of this thread
  bool reverse;               // runs right to left
  std::int64_t b, chunk;      // batch row and chunk
  std::int64_t step0, step1;  // the chunk's steps, in scan order
};

// This thread's first channel, or -1 when it has none (its block overhangs N).
template <int VEC>
__device__ __forceinline__ std::int64_t first_channel(const ScanShape& s) {
  const std::int64_t group = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  return group < s.N / VEC ? group * VEC : -1;
}

// bc = b·C + chunk, from the grid-stride loop over blockIdx.y; chunks of chunk_length steps.
__device__ __forceinline__ ScanLane scan_lane_at(const ScanShape& s, std::int64_t c0, std::int64_t bc,
                                                 int chunk_length) {
  ScanLane lane;
  lane.c0 = c0;
  lane.reverse = s.bidirectional && c0 >= s.N / 2;
  lane.b = bc / s.C;
  lane.chunk = bc % s.C;
  lane.step0 = lane.chunk * chunk_length;
  lane.step1 = min(lane.step0 + chunk_length, s.T);
  return lane;
}

// Where the lane's chunk-boundary state lies in a [B, chunks, N] buffer.
__device__ __forceinline__ std::int64_t chunk_index(const ScanShape& s, const ScanLane& lane) {
  return (lane.b * s.C + lane.chunk) * s.N + lane.c0;
}

// body(lane, reset_row) for each (batch row, chunk) lane of the thread's first channel c0,
// striding over blockIdx.y; reset_row is the lane's batch row of reset.
template <class Body>
__device__ __forceinline__ void for_each_chunk_lane(const ScanShape& s, std::int64_t c0, int chunk_length,
                                                    const std::int32_t* reset, Body&& body) {
  for (std::int64_t bc = blockIdx.y; bc < s.B * s.C; bc += gridDim.y) {
    const ScanLane lane = scan_lane_at(s, c0, bc, chunk_length);
    body(lane, reset + lane.b * s.T);
  }
}

// The lane's chunk-boundary state from a [B, chunks, N] buffer (phase 3's entering state).
template <int VEC>
__device__ __forceinline__ void load_chunk(const ScanShape& s, const ScanLane& lane, const float* from,
                                           float (&h)[VEC]) {
  const std::int64_t in = chunk_index(s, lane);
#pragma unroll
  for (int k = 0; k < VEC; ++k) h[k] = from[in + k];
}

// Phase 1 of a three-pass scan leaves the chunk's A and B (h_end = A·h_start + B, or the
// backward's carry) of the lane's channels in chunk_a, chunk_b.
template <int VEC>
__device__ __forceinline__ void store_chunk(const ScanShape& s, const ScanLane& lane, const float (&a_acc)[VEC],
                                            const float (&b_acc)[VEC], float* chunk_a, float* chunk_b) {
  const std::int64_t out = chunk_index(s, lane);
#pragma unroll
  for (int k = 0; k < VEC; ++k) chunk_a[out + k] = a_acc[k], chunk_b[out + k] = b_acc[k];
}

// Whether this call can take vectors of BYTES bytes: N a multiple of the vector (so every
// gate and row starts aligned), N/2 too for a bidirectional scan, and pointers aligned.
template <class T, int BYTES>
bool use_vectors(const ScanShape& s, std::initializer_list<const void*> pointers) {
  constexpr std::int64_t vec = BYTES / sizeof(T);
  if (s.N % vec != 0) return false;
  if (s.bidirectional && (s.N / 2) % vec != 0) return false;
  for (const void* p : pointers)
    if (reinterpret_cast<std::uintptr_t>(p) % BYTES != 0) return false;
  return true;
}

// Calls fn(T{}, std::integral_constant<int, VEC>{}) for dtype's element type (f32 or
// bf16) and the widest VEC, at most BYTES bytes (16 unless a kernel keeps more channels'
// states per thread), that the shape and `pointers` allow; 1 otherwise.
template <int BYTES = 16, class Fn>
void dispatch_scan(DType dtype, const ScanShape& s, std::initializer_list<const void*> pointers, const char* what,
                   Fn&& fn) {
  auto widest = [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = BYTES / sizeof(T) > 0 ? BYTES / static_cast<int>(sizeof(T)) : 1;
    if (vec > 1 && use_vectors<T, vec * sizeof(T)>(s, pointers))
      fn(zero, std::integral_constant<int, vec>{});
    else
      fn(zero, std::integral_constant<int, 1>{});
  };
  dispatch_f32_bf16(dtype, what, "proj", widest);
}

// The grid of a three-pass scan's kernels, `threads` a block: (channel groups / threads,
// min(B·C, 65535)), the kernels striding over the (batch row, chunk) pairs in y so that
// neither B nor the chunk count meets a grid limit. `what` names the scan in the error.
inline dim3 chunked_scan_grid(const ScanShape& s, int vec, int threads, const char* what) {
  const std::int64_t x = (s.N / vec + threads - 1) / threads;
  BIRDIE_CHECK(x <= INT32_MAX, what, ": ", s.N, " channels exceed the grid limit");
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(std::min<std::int64_t>(s.B * s.C, 65535)));
}

// Phase 2 of a three-pass scan (scan.cu, rglru.cu), forward and backward: per (batch row,
// channel), entering[k] = carry; carry = A[k]·carry + B[k], over the chunks of
// chunk_a, chunk_b [B, C, N] in ascending (forward) or descending (backward) order.
// Defined in scan.cu.
void launch_chunk_carries(const float* chunk_a, const float* chunk_b, const ScanShape& s, bool descending,
                          float* entering, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
