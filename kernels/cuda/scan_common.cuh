// What the three-pass (scan.cu) and one-pass (scan_one_pass.cu) gated scans share: the
// call's shape, the time order of a lane, the reset rule, and the choice of vector width.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "engine/dtype.h"
#include "engine/error.h"
#include "kernels/cuda/device_math.cuh"

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

// The widest VEC this call can use: 16-byte vectors need N a multiple of VEC (so every
// gate and row starts aligned), N/2 too for a bidirectional scan, and aligned pointers.
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

template <class T>
bool use_vectors(const ScanShape& s, std::initializer_list<const void*> pointers) {
  constexpr std::int64_t vec = 16 / sizeof(T);
  if (s.N % vec != 0) return false;
  if (s.bidirectional && (s.N / 2) % vec != 0) return false;
  for (const void* p : pointers)
    if (!aligned16(p)) return false;
  return true;
}

// Calls fn(T{}, std::integral_constant<int, VEC>{}) for dtype's element type (f32 or
// bf16) and the widest VEC the shape and `pointers` allow.
template <class Fn>
void dispatch_scan(DType dtype, const ScanShape& s, std::initializer_list<const void*> pointers, const char* what,
                   Fn&& fn) {
  auto widest = [&](auto zero) {
    using T = decltype(zero);
    if (use_vectors<T>(s, pointers))
      fn(zero, std::integral_constant<int, 16 / sizeof(T)>{});
    else
      fn(zero, std::integral_constant<int, 1>{});
  };
  if (dtype == DType::f32) return widest(float{});
  if (dtype == DType::bf16) return widest(__nv_bfloat16{});
  throw Error(std::string(what) + " (CUDA): proj must be f32 or bf16");
}

}  // namespace birdie::kernels::cuda
