// The pieces the CUDA-core attention kernels share (attention.cu, the forward;
// attention_backward.cu, the backward; included by those only): the block shape, f32
// tile loads, warp reductions, per-row mask facts, the keys a query block sees and the
// stores of a warp's rows.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/device_math.cuh"

namespace birdie::kernels::cuda {
namespace {

constexpr int warps = 4, threads = warps * 32;
constexpr int rows_per_warp = 4;
constexpr int block_rows = warps * rows_per_warp;  // queries (forward, dq) or keys (dk/dv) per block
constexpr int tile = 32;                          // keys (forward, dq) or queries (dk/dv) per step: a lane each

// Where the rows of one (batch row, head) live: element (t, d) at t · stride + d.
struct Head {
  std::int64_t stride;  // H · Dh
  __device__ std::int64_t offset(std::int64_t b, std::int64_t T, std::int64_t h, std::int64_t Dh) const {
    return b * T * stride + h * Dh;
  }
};

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Rows [first, first + count) of a head (stride between tokens `stride`) into shared
// memory as f32, row r at r · pitch; rows past T are zeros.
template <class T>
__device__ void load_rows(const T* __restrict__ base, std::int64_t stride, std::int64_t first,
                          int count, std::int64_t T_len, int Dh, float* shared, int pitch) {
  for (int e = threadIdx.x; e < count * Dh; e += blockDim.x) {
    const int r = e / Dh, d = e % Dh;
    const std::int64_t t = first + r;
    shared[r * pitch + d] = t < T_len ? to_float(base[t * stride + d]) : 0.0f;
  }
}

// Per-token mask facts of a tile, in shared memory: segment start (−1 past T) and prompt bit.
struct TileMask {
  std::int32_t start[tile];
  bool prompt[tile];
};
__device__ void load_tile_mask(const MaskRule& m, std::int64_t first, std::int64_t limit, TileMask& s) {
  for (int x = threadIdx.x; x < tile; x += blockDim.x) {
    const std::int64_t t = first + x;
    s.start[x] = t < limit ? m.start[t] : -1;
    s.prompt[x] = t < limit ? m.prompt(t) : false;
  }
}

// Segment start and prompt bit of the warp's rows first, first + 1, … (queries or keys).
__device__ void warp_row_facts(const MaskRule& row, std::int64_t first, std::int64_t T_len,
                               std::int32_t (&start)[rows_per_warp], bool (&prompt)[rows_per_warp]) {
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t t = first + rr;
    start[rr] = t < T_len ? row.start[t] : -2;  // −2 matches no key (−1 marks keys past T)
    prompt[rr] = t < T_len && row.prompt(t);
  }
}

// Thread 0 stores in range the keys [range[0], range[1]) the queries [i0, i0 + block_rows)
// see: segment starts never decrease along t, so the first query's is the smallest.
__device__ void block_key_range(const MaskRule& row, std::int64_t i0, std::int64_t T_len, std::int64_t* range) {
  if (threadIdx.x != 0) return;
  std::int64_t hi = 0;
  for (int r = 0; r < block_rows && i0 + r < T_len; ++r) hi = max(hi, row.key_end(i0 + r));
  range[0] = row.start[i0];
  range[1] = hi;
}

// The warp's rows of acc (lane l holding channels l, l + 32, …), row rr times scale[rr],
// into dst at token · stride; rows past T are not stored.
template <class T, int DPL>
__device__ void store_rows(T* __restrict__ dst, std::int64_t stride, std::int64_t first, std::int64_t T_len, int Dh,
                           const float (&acc)[rows_per_warp][DPL], const float (&scale)[rows_per_warp]) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t t = first + rr;
    if (t >= T_len) continue;
#pragma unroll
    for (int c = 0; c < DPL; ++c) {
      const int d = lane + 32 * c;
      if (d < Dh) dst[t * stride + d] = from_float<T>(acc[rr][c] * scale[rr]);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Host side.

// fn(std::integral_constant<int, DPL>) with DPL = channels per lane = ceil(Dh / 32).
template <class Fn>
void visit_head_dim(std::int64_t Dh, Fn&& fn) {
  BIRDIE_CHECK(Dh >= 1 && Dh <= attention_max_head_dim, "attention (CUDA): head_dim ", Dh,
               " must be in [1, ", attention_max_head_dim, "]");
  if (Dh <= 32) return fn(std::integral_constant<int, 1>{});
  if (Dh <= 64) return fn(std::integral_constant<int, 2>{});
  if (Dh <= 96) return fn(std::integral_constant<int, 3>{});
  return fn(std::integral_constant<int, 4>{});
}

}  // namespace
}  // namespace birdie::kernels::cuda
