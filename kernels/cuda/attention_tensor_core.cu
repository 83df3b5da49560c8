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
// Shared helpers: kernels/cuda/attention_tensor_core_tiles.cuh; the backward kernels:
// kernels/cuda/attention_tensor_core_backward.cu.
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/attention_tensor_core_tiles.cuh"

namespace birdie::kernels::cuda {

namespace {

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

  const BlockHead<D> at(T, H);
  const std::int64_t i0 = query_block_first();
  const MaskRule row = mask.row(at.b, T);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, t4 = lane & 3;

  load_rows_async<D, block_tokens>(q_s, q + at.base, at.stride, i0, T);
  cp_async_commit();

  std::int64_t lo, hi, warp_lo, warp_hi;
  key_range(row, i0, block_tokens, T, lo, hi);  // every warp computes the block's range
  key_range(row, i0 + 16 * warp, 16, T, warp_lo, warp_hi);
  const WarpTokens rows = warp_tokens(row, i0 + 16 * warp, T, query_past_end);

  float o[D / 8][4], m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};
  zero(o);
  const auto load_tile = [&](std::int64_t n) {
    const int s = static_cast<int>(n & 1);
    load_key_tile<D, N>(k_s + s * N * P, v_s + s * N * P, key_start[s], key_prompt[s], k + at.base, v + at.base,
                        at.stride, row, lo + n * N, T);
  };
  stream_tiles((hi - lo + N - 1) / N, load_tile, [&](std::int64_t n, int s) {
    const std::int64_t j0 = lo + n * N;
    if (j0 >= warp_hi || j0 + N <= warp_lo) return;
    float sc[N / 8][4];
    zero(sc);
    mma_rows_by_rows<D, N>(sc, q_s + 16 * warp * P, k_s + s * N * P);
    const bool full = rows.keys_wholly_visible(j0, N, T, key_start[s][0]);
#pragma unroll
    for (int ri = 0; ri < 2; ++ri) {
      float mx = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < N / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int x = nt * 8 + 2 * t4 + e;
          const bool visible = full || rows.sees_key(ri, j0 + x, key_start[s][x], key_prompt[s][x], row.prefix);
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
  });

  float l[2], inv[2];
#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    l[ri] = quad_sum(l_run[ri]);
    inv[ri] = 1.0f / l[ri];  // every token sees itself: l ≥ 1
  }
  store_rows<D>(out + at.base, at.stride, rows, T, o, inv);
#pragma unroll
  for (int ri = 0; ri < 2; ++ri)
    if (rows.token[ri] < T && t4 == 0) lse[(at.b * H + at.h) * T + rows.token[ri]] = m_run[ri] * ln2 + logf(l[ri]);
}

template <int D>
constexpr std::size_t forward_shared() {
  return sizeof(bf16) * (block_tokens + 4 * forward_tile) * pitch_of<D>;
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
    constexpr std::size_t shared = forward_shared<D>();
    allow_shared_memory(attention_forward_tc_kernel<D>, shared);
    attention_forward_tc_kernel<D><<<grid, tc_threads, shared, stream>>>(
        static_cast<const bf16*>(q), static_cast<const bf16*>(k), static_cast<const bf16*>(v), mask, T, H,
        scale * log2e, static_cast<bf16*>(out), lse);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace birdie::kernels::cuda
