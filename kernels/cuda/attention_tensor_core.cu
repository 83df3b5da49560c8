// Attention on tensor cores (bf16 operands, f32 accumulation), FlashAttention-2 style:
// every product is mma.sync m16n8k16 on fragments that ldmatrix reads from shared memory
// (kernels/cuda/warp_mma.cuh), and the streamed tiles are double-buffered with cp.async
// (the next tile is in flight while the current one is multiplied).
//
// Work split (a block = 4 warps, each warp owning 16 of the block's 64 tokens):
//   forward: a block owns 64 queries of one (row, head); key/value tiles of 64 stream
//     through shared memory. A warp computes S = Q·Kᵀ (16 × 64), masks it, updates the
//     online softmax in the log2 domain (scores scaled by scale·log2 e, exp2), turns the
//     probabilities into bf16 A fragments in registers (the C fragment of S is the A
//     fragment of P) and accumulates O += P·V. lse is stored in natural log.
//   backward: D = rowsum(dout ⊙ out) first (attention.cu), then two kernels, so that
//     nothing is accumulated with atomics (deterministic):
//     dk/dv: a block owns 64 keys; query tiles stream; a warp computes Sᵀ = K·Qᵀ and
//       dPᵀ = V·dOᵀ, recomputes Pᵀ = exp2(Sᵀ·scale·log2 e − lse·log2 e) from the saved
//       lse, dSᵀ = Pᵀ ⊙ (dPᵀ − D), and accumulates dV += Pᵀ·dO, dK += dSᵀ·Q;
//     dq: a block owns 64 queries; key tiles stream; S, dP, P, dS as the forward, dQ += dS·K.
//   Streamed tiles are 64 tokens, 32 in the backward at head dimension 128 (registers).
// Masks: a block visits only the tiles between the first key (query) any of its tokens
// sees and the last; a warp skips a tile none of its 16 tokens sees, and tests the mask
// per element only on tiles that are not wholly visible (the diagonal, segment edges,
// prompt/suffix edges).
// Shared rows are Dh + 8 bf16 long: 16-byte-aligned rows for ldmatrix and cp.async, and
// the 8 rows of an 8×8 matrix fall in different banks.
#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/attention_tensor_core.h"
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
// Queries [lo, hi) that see some key of [j0, j0 + count): lo the smallest first query,
// hi the end of the last key's segment (segment ends never decrease along t).
__device__ void query_range(const MaskRule& row, std::int64_t j0, int count, std::int64_t T, std::int64_t& lo,
                            std::int64_t& hi) {
  const int lane = threadIdx.x & 31;
  std::int64_t l = T;
  for (int r = lane; r < count; r += 32)
    if (j0 + r < T) l = min(l, row.query_begin(j0 + r));
  lo = warp_min64(l);
  hi = j0 < T ? row.end[min(j0 + count, T) - 1] : lo;
}

// ---------------------------------------------------------------------------------------
// Forward.
template <int D>
__global__ void __launch_bounds__(tc_threads)
attention_forward_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                            MaskRule mask, std::int64_t T, std::int64_t H, float scale_log2, bf16* __restrict__ out,
                            float* __restrict__ lse) {
  constexpr int N = forward_tile, P = pitch_of<D>;
  extern __shared__ bf16 shared_tc[];
  bf16* q_s = shared_tc;                 // [64][P]
  bf16* k_s = q_s + block_tokens * P;    // [2][N][P]
  bf16* v_s = k_s + 2 * N * P;           // [2][N][P]
  __shared__ std::int32_t key_start[2][N];
  __shared__ std::uint8_t key_prompt[2][N];

  // Later query blocks see more keys (causal): they start first, so the short ones fill the tail.
  const std::int64_t b = blockIdx.z, h = blockIdx.y,
                     i0 = static_cast<std::int64_t>(gridDim.x - 1 - blockIdx.x) * block_tokens;
  const std::int64_t stride = H * D, base = b * T * stride + h * D;
  const MaskRule row = mask.row(b, T);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(q_s, q + base, stride, i0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  key_range(row, i0, block_tokens, T, lo, hi);  // every warp computes the block's range
  key_range(row, i0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens rows = warp_tokens(row, i0 + 16 * warp, T, query_past_end);

  float o[D / 8][4], m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};
  zero(o);
  const std::int64_t tiles = (hi - lo + N - 1) / N;
  auto load_tile = [&](std::int64_t n) {
    const std::int64_t j0 = lo + n * N;
    const int s = static_cast<int>(n & 1);
    load_rows_async<D, N>(k_s + s * N * P, k + base, stride, j0, T);
    load_rows_async<D, N>(v_s + s * N * P, v + base, stride, j0, T);
    load_facts<N>(row, j0, T, key_past_end, key_start[s], key_prompt[s]);
  };
  if (tiles > 0) load_tile(0);
  cp_async_commit();

  for (std::int64_t n = 0; n < tiles; ++n) {
    const int s = static_cast<int>(n & 1);
    const std::int64_t j0 = lo + n * N;
    if (n + 1 < tiles) load_tile(n + 1);
    cp_async_commit();
    cp_async_wait<1>();  // everything but the tile just issued has landed
    __syncthreads();
    if (j0 < warp_hi && j0 + N > warp_lo) {
      float sc[N / 8][4];
      zero(sc);
      mma_rows_by_rows<D, N>(sc, q_s + 16 * warp * P, k_s + s * N * P);
      // Wholly visible: every key before the warp's first query, all in one segment.
      const bool full = rows.all_valid && j0 + N <= rows.first + 1 && j0 + N <= T &&
                        key_start[s][0] == rows.last_start;
#pragma unroll
      for (int ri = 0; ri < 2; ++ri) {
        float mx = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int x = nt * 8 + 2 * t4 + e;
            const bool visible = full || sees(rows.token[ri], rows.start[ri], rows.prompt[ri], j0 + x,
                                              key_start[s][x], key_prompt[s][x], row.prefix);
            float& y = sc[nt][2 * ri + e];
            y = visible ? y * scale_log2 : -INFINITY;
            mx = fmaxf(mx, y);
          }
        mx = quad_max(mx);
        const float m_new = fmaxf(m_run[ri], mx);
        const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // a row with nothing visible yet
        const float correction = exp2f(m_run[ri] - m_use);
        m_run[ri] = m_new;
        float sum = 0.0f;
#pragma unroll
        for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float& y = sc[nt][2 * ri + e];
            y = exp2f(y - m_use);
            sum += y;
          }
        l_run[ri] = l_run[ri] * correction + sum;  // this lane's share; summed over the quad at the end
#pragma unroll
        for (int dt = 0; dt < D / 8; ++dt) {
          o[dt][2 * ri] *= correction;
          o[dt][2 * ri + 1] *= correction;
        }
      }
      mma_weights_by_rows<D, N>(o, sc, v_s + s * N * P);
    }
    __syncthreads();  // stage s is refilled by the next iteration
  }
  cp_async_wait<0>();

#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    const float l = quad_sum(l_run[ri]);
    const std::int64_t i = rows.token[ri];
    if (i >= T) continue;
    const float inv = 1.0f / l;  // every token sees itself: l ≥ 1
    bf16* dst = out + base + i * stride + 2 * t4;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<std::uint32_t*>(dst + dt * 8) = pack_bf16x2(o[dt][2 * ri] * inv, o[dt][2 * ri + 1] * inv);
    if (t4 == 0) lse[(b * H + h) * T + i] = m_run[ri] * ln2 + logf(l);
  }
}

// ---------------------------------------------------------------------------------------
// Backward: dk and dv for a block of 64 keys, query tiles streaming.
template <int D>
__global__ void __launch_bounds__(tc_threads)
attention_dkdv_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                         const bf16* __restrict__ dout, const float* __restrict__ lse,
                         const float* __restrict__ delta, MaskRule mask, std::int64_t T, std::int64_t H,
                         float scale_log2, float scale, bf16* __restrict__ dk, bf16* __restrict__ dv) {
  constexpr int N = backward_tile<D>, P = pitch_of<D>;
  extern __shared__ bf16 shared_tc[];
  bf16* k_s = shared_tc;               // [64][P]
  bf16* v_s = k_s + block_tokens * P;  // [64][P]
  bf16* q_s = v_s + block_tokens * P;  // [2][N][P]
  bf16* g_s = q_s + 2 * N * P;         // [2][N][P]
  __shared__ std::int32_t query_start[2][N];
  __shared__ std::uint8_t query_prompt[2][N];
  __shared__ float lse_s[2][N], delta_s[2][N];

  const std::int64_t b = blockIdx.z, h = blockIdx.y, j0 = static_cast<std::int64_t>(blockIdx.x) * block_tokens;
  const std::int64_t stride = H * D, base = b * T * stride + h * D;
  const MaskRule row = mask.row(b, T);
  const float* lse_row = lse + (b * H + h) * T;
  const float* delta_row = delta + (b * H + h) * T;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(k_s, k + base, stride, j0, T);
  load_rows_async<D, block_tokens>(v_s, v + base, stride, j0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  query_range(row, j0, block_tokens, T, lo, hi);
  query_range(row, j0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens keys = warp_tokens(row, j0 + 16 * warp, T, key_past_end);

  float dk_acc[D / 8][4], dv_acc[D / 8][4];
  zero(dk_acc);
  zero(dv_acc);
  const std::int64_t tiles = hi > lo ? (hi - lo + N - 1) / N : 0;
  auto load_tile = [&](std::int64_t n) {
    const std::int64_t t0 = lo + n * N;
    const int s = static_cast<int>(n & 1);
    load_rows_async<D, N>(q_s + s * N * P, q + base, stride, t0, T);
    load_rows_async<D, N>(g_s + s * N * P, dout + base, stride, t0, T);
    load_facts<N>(row, t0, T, query_past_end, query_start[s], query_prompt[s]);
    for (int x = threadIdx.x; x < N; x += tc_threads) {
      const std::int64_t i = t0 + x;
      lse_s[s][x] = i < T ? lse_row[i] * log2e : 0.0f;
      delta_s[s][x] = i < T ? delta_row[i] : 0.0f;
    }
  };
  if (tiles > 0) load_tile(0);
  cp_async_commit();

  for (std::int64_t n = 0; n < tiles; ++n) {
    const int s = static_cast<int>(n & 1);
    const std::int64_t t0 = lo + n * N;
    if (n + 1 < tiles) load_tile(n + 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (t0 < warp_hi && t0 + N > warp_lo) {
      float st[N / 8][4], dpt[N / 8][4];  // rows: the warp's keys; columns: the tile's queries
      zero(st);
      zero(dpt);
      mma_rows_by_rows<D, N>(st, k_s + 16 * warp * P, q_s + s * N * P);
      mma_rows_by_rows<D, N>(dpt, v_s + 16 * warp * P, g_s + s * N * P);
      // Wholly visible: every query at or after the warp's last key, all in one segment.
      const bool full = keys.all_valid && t0 >= keys.first + 15 && t0 + N <= T &&
                        query_start[s][N - 1] == row.start[keys.first];
#pragma unroll
      for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int ri = c >> 1, x = nt * 8 + 2 * t4 + (c & 1);
          const bool visible = full || sees(t0 + x, query_start[s][x], query_prompt[s][x], keys.token[ri],
                                            keys.start[ri], keys.prompt[ri], row.prefix);
          const float p = visible ? exp2f(st[nt][c] * scale_log2 - lse_s[s][x]) : 0.0f;
          dpt[nt][c] = visible ? p * (dpt[nt][c] - delta_s[s][x]) : 0.0f;
          st[nt][c] = p;
        }
      mma_weights_by_rows<D, N>(dv_acc, st, g_s + s * N * P);
      mma_weights_by_rows<D, N>(dk_acc, dpt, q_s + s * N * P);
    }
    __syncthreads();
  }
  cp_async_wait<0>();

#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t j = keys.token[ri];
    if (j >= T) continue;
    const std::int64_t at = base + j * stride + 2 * t4;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      *reinterpret_cast<std::uint32_t*>(dk + at + dt * 8) =
          pack_bf16x2(dk_acc[dt][2 * ri] * scale, dk_acc[dt][2 * ri + 1] * scale);
      *reinterpret_cast<std::uint32_t*>(dv + at + dt * 8) = pack_bf16x2(dv_acc[dt][2 * ri], dv_acc[dt][2 * ri + 1]);
    }
  }
}

// Backward: dq for a block of 64 queries, key tiles streaming (the forward's tiles).
template <int D>
__global__ void __launch_bounds__(tc_threads)
attention_dq_tc_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k, const bf16* __restrict__ v,
                       const bf16* __restrict__ dout, const float* __restrict__ lse, const float* __restrict__ delta,
                       MaskRule mask, std::int64_t T, std::int64_t H, float scale_log2, float scale,
                       bf16* __restrict__ dq) {
  constexpr int N = backward_tile<D>, P = pitch_of<D>;
  extern __shared__ bf16 shared_tc[];
  bf16* q_s = shared_tc;               // [64][P]
  bf16* g_s = q_s + block_tokens * P;  // [64][P]
  bf16* k_s = g_s + block_tokens * P;  // [2][N][P]
  bf16* v_s = k_s + 2 * N * P;         // [2][N][P]
  __shared__ std::int32_t key_start[2][N];
  __shared__ std::uint8_t key_prompt[2][N];

  // Later query blocks see more keys (causal): they start first, so the short ones fill the tail.
  const std::int64_t b = blockIdx.z, h = blockIdx.y,
                     i0 = static_cast<std::int64_t>(gridDim.x - 1 - blockIdx.x) * block_tokens;
  const std::int64_t stride = H * D, base = b * T * stride + h * D;
  const MaskRule row = mask.row(b, T);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(q_s, q + base, stride, i0, T);
  load_rows_async<D, block_tokens>(g_s, dout + base, stride, i0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  key_range(row, i0, block_tokens, T, lo, hi);
  key_range(row, i0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens rows = warp_tokens(row, i0 + 16 * warp, T, query_past_end);
  float lse_i[2], delta_i[2];
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t i = rows.token[ri];
    lse_i[ri] = i < T ? lse[(b * H + h) * T + i] * log2e : 0.0f;
    delta_i[ri] = i < T ? delta[(b * H + h) * T + i] : 0.0f;
  }

  float dq_acc[D / 8][4];
  zero(dq_acc);
  const std::int64_t tiles = (hi - lo + N - 1) / N;
  auto load_tile = [&](std::int64_t n) {
    const std::int64_t j0 = lo + n * N;
    const int s = static_cast<int>(n & 1);
    load_rows_async<D, N>(k_s + s * N * P, k + base, stride, j0, T);
    load_rows_async<D, N>(v_s + s * N * P, v + base, stride, j0, T);
    load_facts<N>(row, j0, T, key_past_end, key_start[s], key_prompt[s]);
  };
  if (tiles > 0) load_tile(0);
  cp_async_commit();

  for (std::int64_t n = 0; n < tiles; ++n) {
    const int s = static_cast<int>(n & 1);
    const std::int64_t j0 = lo + n * N;
    if (n + 1 < tiles) load_tile(n + 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (j0 < warp_hi && j0 + N > warp_lo) {
      float sc[N / 8][4], dp[N / 8][4];
      zero(sc);
      zero(dp);
      mma_rows_by_rows<D, N>(sc, q_s + 16 * warp * P, k_s + s * N * P);
      mma_rows_by_rows<D, N>(dp, g_s + 16 * warp * P, v_s + s * N * P);
      const bool full = rows.all_valid && j0 + N <= rows.first + 1 && j0 + N <= T &&
                        key_start[s][0] == rows.last_start;
#pragma unroll
      for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int ri = c >> 1, x = nt * 8 + 2 * t4 + (c & 1);
          const bool visible = full || sees(rows.token[ri], rows.start[ri], rows.prompt[ri], j0 + x,
                                            key_start[s][x], key_prompt[s][x], row.prefix);
          const float p = visible ? exp2f(sc[nt][c] * scale_log2 - lse_i[ri]) : 0.0f;
          sc[nt][c] = visible ? p * (dp[nt][c] - delta_i[ri]) : 0.0f;  // dS
        }
      mma_weights_by_rows<D, N>(dq_acc, sc, k_s + s * N * P);
    }
    __syncthreads();
  }
  cp_async_wait<0>();

#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t i = rows.token[ri];
    if (i >= T) continue;
    bf16* dst = dq + base + i * stride + 2 * t4;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<std::uint32_t*>(dst + dt * 8) =
          pack_bf16x2(dq_acc[dt][2 * ri] * scale, dq_acc[dt][2 * ri + 1] * scale);
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

template <class Kernel, class... Args>
void launch_attention(Kernel kernel, dim3 grid, int threads, std::size_t shared, cudaStream_t stream, Args... args) {
  allow_shared_memory(kernel, shared);
  kernel<<<grid, threads, shared, stream>>>(args...);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

template <int D>
constexpr std::size_t forward_shared() {
  return sizeof(bf16) * (block_tokens + 4 * forward_tile) * pitch_of<D>;
}
template <int D>
constexpr std::size_t backward_shared() {
  return sizeof(bf16) * (2 * block_tokens + 4 * backward_tile<D>) * pitch_of<D>;
}

}  // namespace

bool attention_tensor_cores_apply(DType dtype, std::int64_t Dh, std::initializer_list<const void*> operands) {
  if (dtype != DType::bf16 || (Dh != 64 && Dh != 128)) return false;
  for (const void* p : operands)
    if (!aligned16(p)) return false;
  return true;
}

void attention_forward_tensor_cores(const void* q, const void* k, const void* v, const std::int32_t* reset,
                                    const std::int32_t* start, const std::int32_t* end, bool prefix,
                                    std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh, void* out,
                                    float* lse, cudaStream_t stream) {
  if (B * T * H == 0) return;
  const dim3 grid = attention_grid(B, T, H, block_tokens);
  const MaskRule mask{reset, start, end, prefix};
  const float scale = attention_scale(Dh);
  visit_tc_head_dim(Dh, [&](auto d) {
    constexpr int D = decltype(d)::value;
    launch_attention(attention_forward_tc_kernel<D>, grid, tc_threads, forward_shared<D>(), stream,
                     static_cast<const bf16*>(q), static_cast<const bf16*>(k), static_cast<const bf16*>(v), mask, T,
                     H, scale * log2e, static_cast<bf16*>(out), lse);
  });
}

void attention_backward_tensor_cores(const void* q, const void* k, const void* v, const std::int32_t* reset,
                                     const std::int32_t* start, const std::int32_t* end, bool prefix,
                                     std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh,
                                     const float* lse, const float* delta, const void* dout, void* dq, void* dk,
                                     void* dv, cudaStream_t stream) {
  if (B * T * H == 0) return;
  const dim3 grid = attention_grid(B, T, H, block_tokens);
  const MaskRule mask{reset, start, end, prefix};
  const float scale = attention_scale(Dh);
  const auto* qe = static_cast<const bf16*>(q);
  const auto* ke = static_cast<const bf16*>(k);
  const auto* ve = static_cast<const bf16*>(v);
  const auto* ge = static_cast<const bf16*>(dout);
  visit_tc_head_dim(Dh, [&](auto d) {
    constexpr int D = decltype(d)::value;
    launch_attention(attention_dkdv_tc_kernel<D>, grid, tc_threads, backward_shared<D>(), stream, qe, ke, ve, ge,
                     lse, delta, mask, T, H, scale * log2e, scale, static_cast<bf16*>(dk), static_cast<bf16*>(dv));
    launch_attention(attention_dq_tc_kernel<D>, grid, tc_threads, backward_shared<D>(), stream, qe, ke, ve, ge, lse,
                     delta, mask, T, H, scale * log2e, scale, static_cast<bf16*>(dq));
  });
}

}  // namespace birdie::kernels::cuda
