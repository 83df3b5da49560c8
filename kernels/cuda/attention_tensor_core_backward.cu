// The backward of the tensor-core attention (the work split: attention_tensor_core.cu).
// D = rowsum(dout ⊙ out) comes from attention_backward.cu; then two kernels, so that
// nothing is accumulated with atomics (deterministic):
//   dk/dv: a block owns 64 keys; query tiles stream; a warp computes Sᵀ = K·Qᵀ and
//     dPᵀ = V·dOᵀ, recomputes Pᵀ = exp2(Sᵀ·scale·log2 e − lse·log2 e) from the saved lse,
//     dSᵀ = Pᵀ ⊙ (dPᵀ − D), and accumulates dV += Pᵀ·dO, dK += dSᵀ·Q;
//   dq: a block owns 64 queries; key tiles stream; S, dP, P, dS as the forward, dQ += dS·K.
// Streamed tiles are 64 tokens, 32 at head dimension 128 (registers).
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/attention_tensor_core_tiles.cuh"

namespace birdie::kernels::cuda {

namespace {

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

// dk and dv for a block of 64 keys, query tiles streaming.
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

  const BlockHead<D> at(T, H);
  const std::int64_t j0 = static_cast<std::int64_t>(blockIdx.x) * block_tokens;
  const MaskRule row = mask.row(at.b, T);
  const float* lse_row = lse + (at.b * H + at.h) * T;
  const float* delta_row = delta + (at.b * H + at.h) * T;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(k_s, k + at.base, at.stride, j0, T);
  load_rows_async<D, block_tokens>(v_s, v + at.base, at.stride, j0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  query_range(row, j0, block_tokens, T, lo, hi);
  query_range(row, j0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens keys = warp_tokens(row, j0 + 16 * warp, T, key_past_end);

  float dk_acc[D / 8][4], dv_acc[D / 8][4];
  zero(dk_acc);
  zero(dv_acc);
  const auto load_tile = [&](std::int64_t n) {
    const std::int64_t t0 = lo + n * N;
    const int s = static_cast<int>(n & 1);
    load_rows_async<D, N>(q_s + s * N * P, q + at.base, at.stride, t0, T);
    load_rows_async<D, N>(g_s + s * N * P, dout + at.base, at.stride, t0, T);
    load_facts<N>(row, t0, T, query_past_end, query_start[s], query_prompt[s]);
    for (int x = threadIdx.x; x < N; x += tc_threads) {
      const std::int64_t i = t0 + x;
      lse_s[s][x] = i < T ? lse_row[i] * log2e : 0.0f;
      delta_s[s][x] = i < T ? delta_row[i] : 0.0f;
    }
  };
  stream_tiles(hi > lo ? (hi - lo + N - 1) / N : 0, load_tile, [&](std::int64_t n, int s) {
    const std::int64_t t0 = lo + n * N;
    if (t0 >= warp_hi || t0 + N <= warp_lo) return;
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
  });

  const float dk_scale[2] = {scale, scale}, dv_scale[2] = {1.0f, 1.0f};
  store_rows<D>(dk + at.base, at.stride, keys, T, dk_acc, dk_scale);
  store_rows<D>(dv + at.base, at.stride, keys, T, dv_acc, dv_scale);
}

// dq for a block of 64 queries, key tiles streaming (the forward's tiles).
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

  const BlockHead<D> at(T, H);
  const std::int64_t i0 = query_block_first();
  const MaskRule row = mask.row(at.b, T);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(q_s, q + at.base, at.stride, i0, T);
  load_rows_async<D, block_tokens>(g_s, dout + at.base, at.stride, i0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  key_range(row, i0, block_tokens, T, lo, hi);
  key_range(row, i0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens rows = warp_tokens(row, i0 + 16 * warp, T, query_past_end);
  float lse_i[2], delta_i[2];
  for (int ri = 0; ri < 2; ++ri) {
    const std::int64_t i = rows.token[ri];
    lse_i[ri] = i < T ? lse[(at.b * H + at.h) * T + i] * log2e : 0.0f;
    delta_i[ri] = i < T ? delta[(at.b * H + at.h) * T + i] : 0.0f;
  }

  float dq_acc[D / 8][4];
  zero(dq_acc);
  const auto load_tile = [&](std::int64_t n) {
    const int s = static_cast<int>(n & 1);
    load_key_tile<D, N>(k_s + s * N * P, v_s + s * N * P, key_start[s], key_prompt[s], k + at.base, v + at.base,
                        at.stride, row, lo + n * N, T);
  };
  stream_tiles((hi - lo + N - 1) / N, load_tile, [&](std::int64_t n, int s) {
    const std::int64_t j0 = lo + n * N;
    if (j0 >= warp_hi || j0 + N <= warp_lo) return;
    float sc[N / 8][4], dp[N / 8][4];
    zero(sc);
    zero(dp);
    mma_rows_by_rows<D, N>(sc, q_s + 16 * warp * P, k_s + s * N * P);
    mma_rows_by_rows<D, N>(dp, g_s + 16 * warp * P, v_s + s * N * P);
    const bool full = rows.keys_wholly_visible(j0, N, T, key_start[s][0]);
#pragma unroll
    for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int ri = c >> 1, x = nt * 8 + 2 * t4 + (c & 1);
        const bool visible = full || rows.sees_key(ri, j0 + x, key_start[s][x], key_prompt[s][x], row.prefix);
        const float p = visible ? exp2f(sc[nt][c] * scale_log2 - lse_i[ri]) : 0.0f;
        sc[nt][c] = visible ? p * (dp[nt][c] - delta_i[ri]) : 0.0f;  // dS
      }
    mma_weights_by_rows<D, N>(dq_acc, sc, k_s + s * N * P);
  });

  const float dq_scale[2] = {scale, scale};
  store_rows<D>(dq + at.base, at.stride, rows, T, dq_acc, dq_scale);
}

template <int D>
constexpr std::size_t backward_shared() {
  return sizeof(bf16) * (2 * block_tokens + 4 * backward_tile<D>) * pitch_of<D>;
}

}  // namespace

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
    constexpr std::size_t shared = backward_shared<D>();
    allow_shared_memory(attention_dkdv_tc_kernel<D>, shared);
    attention_dkdv_tc_kernel<D><<<grid, tc_threads, shared, stream>>>(
        qe, ke, ve, ge, lse, delta, mask, T, H, scale * log2e, scale, static_cast<bf16*>(dk), static_cast<bf16*>(dv));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
    allow_shared_memory(attention_dq_tc_kernel<D>, shared);
    attention_dq_tc_kernel<D><<<grid, tc_threads, shared, stream>>>(qe, ke, ve, ge, lse, delta, mask, T, H,
                                                                   scale * log2e, scale, static_cast<bf16*>(dq));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace birdie::kernels::cuda
