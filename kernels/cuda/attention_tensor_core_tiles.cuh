// The pieces the tensor-core attention kernels share (attention_tensor_core.cu, the
// forward; attention_tensor_core_backward.cu, the backward; included by those only):
// the block shape, cp.async row and mask-fact loads, the two mma.sync products, the warp's
// token facts, the visible key/query ranges and the double-buffered tile stream.
// Shared rows are Dh + 8 bf16 long: 16-byte-aligned rows for ldmatrix and cp.async, and
// the 8 rows of an 8×8 matrix fall in different banks.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/warp_mma.cuh"

namespace birdie::kernels::cuda {
namespace {

using bf16 = __nv_bfloat16;
constexpr int tc_warps = 4, tc_threads = 32 * tc_warps;
constexpr int block_tokens = 16 * tc_warps;  // queries (forward, dq) or keys (dk/dv) of a block
constexpr float log2e = 1.4426950408889634f, ln2 = 0.6931471805599453f;

template <int D>
constexpr int pitch_of = D + 8;
// Tokens per streamed tile: 64, or 32 in the backward at D = 128.
template <int D>
constexpr int backward_tile = D == 128 ? 32 : 64;
constexpr int forward_tile = 64;

// Rows [first, first + ROWS) of a head into shared memory (row r at r · pitch) with
// cp.async; rows past T are zeros (no global read).
template <int D, int ROWS>
__device__ void load_rows_async(bf16* dst, const bf16* __restrict__ head, std::int64_t stride, std::int64_t first,
                                std::int64_t T) {
  constexpr int chunks = D / 8;  // 16-byte pieces of a row
  for (int c = threadIdx.x; c < ROWS * chunks; c += tc_threads) {
    const int r = c / chunks, x = c % chunks;
    const std::int64_t t = first + r;
    const bool valid = t < T;
    cp_async16(dst + r * pitch_of<D> + x * 8, head + (valid ? t : 0) * stride + x * 8, valid ? 16 : 0);
  }
}

// Segment start (or `past_end`) and prompt bit of tokens [first, first + N), plain stores.
template <int N>
__device__ void load_facts(const MaskRule& row, std::int64_t first, std::int64_t T, std::int32_t past_end,
                           std::int32_t* start, std::uint8_t* prompt) {
  for (int x = threadIdx.x; x < N; x += tc_threads) {
    const std::int64_t t = first + x;
    start[x] = t < T ? row.start[t] : past_end;
    prompt[x] = t < T && row.prompt(t);
  }
}

// acc (16 × N) += A · Bᵀ for A the 16 rows at `a` and B the N rows at `b`, both D bf16
// wide in shared memory: S = Q·Kᵀ, dP = dO·Vᵀ, Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ.
template <int D, int N>
__device__ __forceinline__ void mma_rows_by_rows(float (&acc)[N / 8][4], const bf16* a, const bf16* b) {
  constexpr int P = pitch_of<D>;
  const int lane = threadIdx.x & 31, m = lane >> 3, r = lane & 7;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    std::uint32_t fa[4];
    ldmatrix<4, false>(fa, a + (r + (m & 1) * 8) * P + kk * 16 + (m >> 1) * 8);
#pragma unroll
    for (int nt = 0; nt < N / 8; nt += 2) {
      std::uint32_t f[4];
      ldmatrix<4, false>(f, b + (nt * 8 + r + (m >> 1) * 8) * P + kk * 16 + (m & 1) * 8);
      const std::uint32_t b0[2] = {f[0], f[1]}, b1[2] = {f[2], f[3]};
      mma_m16n8k16_bf16(acc[nt], fa, b0);
      mma_m16n8k16_bf16(acc[nt + 1], fa, b1);
    }
  }
}

// acc (16 × D) += W · B for W (16 × N) in C-fragment layout (f32, rounded to bf16 here)
// and B the N rows at `b`, D bf16 wide: O += P·V, dV += Pᵀ·dO, dK += dSᵀ·Q, dQ += dS·K.
template <int D, int N>
__device__ __forceinline__ void mma_weights_by_rows(float (&acc)[D / 8][4], const float (&w)[N / 8][4],
                                                    const bf16* b) {
  constexpr int P = pitch_of<D>;
  const int lane = threadIdx.x & 31, m = lane >> 3, r = lane & 7;
#pragma unroll
  for (int kc = 0; kc < N / 16; ++kc) {
    // Two n-tiles of the C fragment are one k-chunk of the A fragment.
    const std::uint32_t fa[4] = {pack_bf16x2(w[2 * kc][0], w[2 * kc][1]), pack_bf16x2(w[2 * kc][2], w[2 * kc][3]),
                                 pack_bf16x2(w[2 * kc + 1][0], w[2 * kc + 1][1]),
                                 pack_bf16x2(w[2 * kc + 1][2], w[2 * kc + 1][3])};
#pragma unroll
    for (int dt = 0; dt < D / 8; dt += 2) {
      std::uint32_t f[4];
      ldmatrix<4, true>(f, b + (kc * 16 + r + (m & 1) * 8) * P + dt * 8 + (m >> 1) * 8);
      const std::uint32_t b0[2] = {f[0], f[1]}, b1[2] = {f[2], f[3]};
      mma_m16n8k16_bf16(acc[dt], fa, b0);
      mma_m16n8k16_bf16(acc[dt + 1], fa, b1);
    }
  }
}

template <int N>
__device__ __forceinline__ void zero(float (&acc)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.0f;
}

// The 16 tokens a warp owns (queries or keys, from `first`): the two this lane's fragment
// rows hold (g and g + 8), and what the whole warp sees.
struct WarpTokens {
  std::int64_t first;
  std::int64_t token[2];
  std::int32_t start[2];
  bool prompt[2];
  bool all_valid;          // all 16 tokens are < T
  std::int32_t last_start;  // segment start of the last valid token

  // As queries: whether row ri sees key j, and whether every key of [j0, j0 + n) that
  // starts in segment `tile_start` is seen by all 16 (all before the warp's first query).
  __device__ bool sees_key(int ri, std::int64_t j, std::int32_t start_j, bool prompt_j, bool prefix) const {
    return sees(token[ri], start[ri], prompt[ri], j, start_j, prompt_j, prefix);
  }
  __device__ bool keys_wholly_visible(std::int64_t j0, int n, std::int64_t T, std::int32_t tile_start) const {
    return all_valid && j0 + n <= first + 1 && j0 + n <= T && tile_start == last_start;
  }
};
__device__ WarpTokens warp_tokens(const MaskRule& row, std::int64_t first, std::int64_t T, std::int32_t past_end) {
  const int g = (threadIdx.x & 31) >> 2;
  WarpTokens w;
  w.first = first;
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t t = first + g + 8 * ri;
    w.token[ri] = t;
    w.start[ri] = t < T ? row.start[t] : past_end;
    w.prompt[ri] = t < T && row.prompt(t);
  }
  w.all_valid = first + 16 <= T;
  w.last_start = first < T ? row.start[min(first + 15, T - 1)] : past_end;
  return w;
}

__device__ __forceinline__ std::int64_t warp_max64(std::int64_t x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = max(x, static_cast<std::int64_t>(__shfl_xor_sync(0xffffffffu, x, o)));
  return x;
}
__device__ __forceinline__ std::int64_t warp_min64(std::int64_t x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = min(x, static_cast<std::int64_t>(__shfl_xor_sync(0xffffffffu, x, o)));
  return x;
}
// Sum and max over the 4 lanes holding one fragment row.
__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}
__device__ __forceinline__ float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}

// Keys [lo, hi) the queries [i0, i0 + count) see between them (lo: the first query's
// segment start; segment starts never decrease along t), as a warp reduction.
__device__ void key_range(const MaskRule& row, std::int64_t i0, int count, std::int64_t T, std::int64_t& lo,
                          std::int64_t& hi) {
  const int lane = threadIdx.x & 31;
  std::int64_t h = 0;
  for (int r = lane; r < count; r += 32)
    if (i0 + r < T) h = max(h, row.key_end(i0 + r));
  hi = warp_max64(h);
  lo = i0 < T ? row.start[i0] : hi;
}

// The batch row (blockIdx.z) and head (blockIdx.y) of a block, and where its head starts.
template <int D>
struct BlockHead {
  std::int64_t b = blockIdx.z, h = blockIdx.y, stride, base;
  __device__ BlockHead(std::int64_t T, std::int64_t H) : stride(H * D), base(b * T * stride + h * D) {}
};
// The first query of a query block: later blocks see more keys (causal), so they start
// first and the short ones fill the tail.
__device__ __forceinline__ std::int64_t query_block_first() {
  return static_cast<std::int64_t>(gridDim.x - 1 - blockIdx.x) * block_tokens;
}

// Key/value tile of N keys from j0 into stage buffers: k and v rows, segment starts, prompt bits.
template <int D, int N>
__device__ void load_key_tile(bf16* k_s, bf16* v_s, std::int32_t* start, std::uint8_t* prompt,
                              const bf16* __restrict__ k, const bf16* __restrict__ v, std::int64_t stride,
                              const MaskRule& row, std::int64_t j0, std::int64_t T) {
  load_rows_async<D, N>(k_s, k, stride, j0, T);
  load_rows_async<D, N>(v_s, v, stride, j0, T);
  load_facts<N>(row, j0, T, key_past_end, start, prompt);
}

// The double-buffered stream of `tiles` tiles: load(n) issues tile n's cp.async copies
// into stage n & 1 while body(n, stage) works on the tile before it.
template <class Load, class Body>
__device__ __forceinline__ void stream_tiles(std::int64_t tiles, Load&& load, Body&& body) {
  if (tiles > 0) load(0);
  cp_async_commit();
  for (std::int64_t n = 0; n < tiles; ++n) {
    if (n + 1 < tiles) load(n + 1);
    cp_async_commit();
    cp_async_wait<1>();  // everything but the tile just issued has landed
    __syncthreads();
    body(n, static_cast<int>(n & 1));
    __syncthreads();  // stage n & 1 is refilled by the next iteration
  }
  cp_async_wait<0>();
}

// The warp's 16 rows of acc (16 × D, C-fragment layout), row ri times scale[ri], as bf16
// into dst at token · stride; rows past T are not stored.
template <int D>
__device__ __forceinline__ void store_rows(bf16* __restrict__ dst, std::int64_t stride, const WarpTokens& rows,
                                           std::int64_t T, const float (&acc)[D / 8][4], const float (&scale)[2]) {
  const int t4 = threadIdx.x & 3;
#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t t = rows.token[ri];
    if (t >= T) continue;
    bf16* at = dst + t * stride + 2 * t4;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<std::uint32_t*>(at + dt * 8) =
          pack_bf16x2(acc[dt][2 * ri] * scale[ri], acc[dt][2 * ri + 1] * scale[ri]);
  }
}

// ---------------------------------------------------------------------------------------
// Host side.

template <class Fn>
void visit_tc_head_dim(std::int64_t Dh, Fn&& fn) {
  if (Dh == 64) return fn(std::integral_constant<int, 64>{});
  if (Dh == 128) return fn(std::integral_constant<int, 128>{});
  throw Error(detail::concat("attention (tensor cores): head_dim ", Dh, " is not 64 or 128"));
}

}  // namespace
}  // namespace birdie::kernels::cuda
