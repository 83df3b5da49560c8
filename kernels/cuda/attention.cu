// CUDA attention over packed rows, forward and backward, in the manner of FlashAttention-2:
// a block holds a tile of queries (or keys) in shared memory and loops over tiles of keys
// (or queries) with an online softmax; nothing of size T×T is ever stored. Scores, the
// softmax and all sums are f32; bf16 operands are widened when a tile is loaded.
//
// Work split (one block = 4 warps, each warp owning 4 rows of the block's tile):
//   forward:  block = (16 queries, head, row of the batch); per 32-key tile, lane j scores
//             key j against the warp's query (a dot product over Dh), the warp reduces
//             max and sum with shuffles, and lane l accumulates output channels l, l+32,
//             l+64, l+96 (Dh ≤ 128) with the probabilities broadcast by shuffle.
//   backward: D = rowsum(dout ⊙ out) first (a warp per row); then dk/dv with a block per
//             16 keys looping over 32-query tiles (lane i = query i, P recomputed from
//             lse), then dq with a block per 16 queries looping over 32-key tiles, as the
//             forward. Two passes instead of atomics: deterministic results.
// Tiles wholly outside the mask are never visited: a query tile's keys run from the
// segment start of its first query to the furthest key any of its queries sees (its own
// position, or its segment's end for a prompt query under the prefix mask), and a key
// tile's queries likewise; inside that range the mask is tested per (query, key).
//
// Which kernels run (the launchers below decide, nothing else): bf16 at head dimension 64
// or 128 with 16-byte-aligned operands goes to the tensor-core kernels
// (attention_tensor_core.cu: mma.sync, ldmatrix, double-buffered cp.async); f32, every
// other head dimension up to 128 and unaligned views run the CUDA-core kernels of this
// file (FMAs, one shared-memory tile at a time). Both share the segment bounds and, in
// the backward, D. The backward kernels: attention_backward.cu; what both files share:
// attention_cuda_core.cuh.
#include "kernels/cuda/attention_cuda_core.cuh"
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/dispatch.cuh"

namespace birdie::kernels::cuda {

namespace {

// ---------------------------------------------------------------------------------------
// Forward. Shared: q [block_rows][Dh], k [tile][pitch], v [tile][Dh]; pitch = Dh | 1 (odd,
// so lanes reading different keys' channel d hit different banks).
template <class T, int DPL>
__global__ void __launch_bounds__(threads)
attention_forward_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                         MaskRule m, std::int64_t T_len, std::int64_t H, int Dh, float scale,
                         T* __restrict__ out, float* __restrict__ lse) {
  extern __shared__ float shared[];
  const int pitch = Dh | 1;
  float* q_s = shared;
  float* k_s = q_s + block_rows * Dh;
  float* v_s = k_s + tile * pitch;
  __shared__ TileMask keys;
  __shared__ std::int64_t range[2];

  const std::int64_t b = blockIdx.z, h = blockIdx.y, i0 = static_cast<std::int64_t>(blockIdx.x) * block_rows;
  const Head head{H * Dh};
  const std::int64_t base = head.offset(b, T_len, h, Dh);
  const MaskRule row = m.row(b, T_len);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  load_rows(q + base, head.stride, i0, block_rows, T_len, Dh, q_s, Dh);
  block_key_range(row, i0, T_len, range);
  __syncthreads();

  float m_run[rows_per_warp], l_run[rows_per_warp], acc[rows_per_warp][DPL];
  std::int32_t start_i[rows_per_warp];
  bool prompt_i[rows_per_warp];
  warp_row_facts(row, i0 + warp * rows_per_warp, T_len, start_i, prompt_i);
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    m_run[rr] = -INFINITY;
    l_run[rr] = 0.0f;
#pragma unroll
    for (int c = 0; c < DPL; ++c) acc[rr][c] = 0.0f;
  }

  for (std::int64_t j0 = range[0]; j0 < range[1]; j0 += tile) {
    __syncthreads();  // the previous tile is no longer read
    load_rows(k + base, head.stride, j0, tile, range[1], Dh, k_s, pitch);
    load_rows(v + base, head.stride, j0, tile, range[1], Dh, v_s, Dh);
    load_tile_mask(row, j0, range[1], keys);
    __syncthreads();
    const std::int64_t j = j0 + lane;
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
      const int r = warp * rows_per_warp + rr;
      const std::int64_t i = i0 + r;
      const bool allowed = sees(i, start_i[rr], prompt_i[rr], j, keys.start[lane], keys.prompt[lane], row.prefix);
      float s = -INFINITY;
      if (allowed) {
        float dot = 0.0f;
        for (int d = 0; d < Dh; ++d) dot += q_s[r * Dh + d] * k_s[lane * pitch + d];
        s = dot * scale;
      }
      const float tile_max = warp_max(s);
      if (tile_max == -INFINITY) continue;  // the whole tile is masked for this query (warp-uniform)
      const float m_new = fmaxf(m_run[rr], tile_max);
      const float correction = expf(m_run[rr] - m_new);  // 0 on the first visible tile
      const float p = allowed ? expf(s - m_new) : 0.0f;
      l_run[rr] = l_run[rr] * correction + warp_sum(p);
      m_run[rr] = m_new;
#pragma unroll
      for (int c = 0; c < DPL; ++c) acc[rr][c] *= correction;
      for (int jj = 0; jj < tile; ++jj) {
        const float pj = __shfl_sync(0xffffffffu, p, jj);
        if (pj == 0.0f) continue;  // warp-uniform: masked keys (and underflow) add nothing
#pragma unroll
        for (int c = 0; c < DPL; ++c) {
          const int d = lane + 32 * c;
          if (d < Dh) acc[rr][c] += pj * v_s[jj * Dh + d];
        }
      }
    }
  }

  float inv[rows_per_warp];
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) inv[rr] = 1.0f / l_run[rr];  // every token sees itself: l ≥ 1
  store_rows(out + base, head.stride, i0 + warp * rows_per_warp, T_len, Dh, acc, inv);
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    if (i < T_len && lane == 0) lse[(b * H + h) * T_len + i] = m_run[rr] + logf(l_run[rr]);
  }
}

}  // namespace

void attention_forward(DType dtype, const void* q, const void* k, const void* v,
                       const std::int32_t* reset, const std::int32_t* bounds, bool prefix, std::int64_t B, std::int64_t T,
                       std::int64_t H, std::int64_t Dh, void* out, float* lse, cudaStream_t stream) {
  if (B * T * H == 0) return;
  const dim3 grid = attention_grid(B, T, H, block_rows);
  const std::int32_t* start = bounds;
  const std::int32_t* end = bounds + B * T;
  if (attention_tensor_cores_apply(dtype, Dh, {q, k, v, out}))
    return attention_forward_tensor_cores(q, k, v, reset, start, end, prefix, B, T, H, Dh, out, lse,
                                          stream);
  const MaskRule mask{reset, start, end, prefix};
  const int pitch = static_cast<int>(Dh | 1);
  const std::size_t shared = sizeof(float) * (block_rows * Dh + tile * pitch + tile * Dh);
  dispatch_f32_bf16(dtype, "attention", "q", [&](auto zero) {
    using E = decltype(zero);
    visit_head_dim(Dh, [&](auto dpl) {
      constexpr int DPL = decltype(dpl)::value;
      allow_shared_memory(attention_forward_kernel<E, DPL>, shared);
      attention_forward_kernel<E, DPL><<<grid, threads, shared, stream>>>(
          static_cast<const E*>(q), static_cast<const E*>(k), static_cast<const E*>(v), mask, T, H,
          static_cast<int>(Dh), attention_scale(Dh), static_cast<E*>(out), lse);
      BIRDIE_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace birdie::kernels::cuda
