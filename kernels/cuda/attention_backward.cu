// The backward of the CUDA-core attention (the work split: attention.cu): D =
// rowsum(dout ⊙ out) first (a warp per row, for the tensor-core kernels too); then dk/dv
// with a block per 16 keys looping over 32-query tiles (lane i = query i, P recomputed
// from lse), then dq with a block per 16 queries looping over 32-key tiles, as the
// forward. Two passes instead of atomics: deterministic results.
#include <algorithm>

#include "kernels/cuda/attention_cuda_core.cuh"
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/dispatch.cuh"

namespace birdie::kernels::cuda {

namespace {

// Step 1: delta[b, h, i] = Σ_d dout ⊙ out (f32), a warp per (b, i, h).
template <class T>
__global__ void __launch_bounds__(threads)
attention_delta_kernel(const T* __restrict__ out, const T* __restrict__ dout, std::int64_t B,
                       std::int64_t T_len, std::int64_t H, int Dh, float* __restrict__ delta) {
  const std::int64_t rows = B * T_len * H;
  const int lane = threadIdx.x & 31;
  for (std::int64_t r = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; r < rows;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32) {
    float s = 0.0f;
    for (int d = lane; d < Dh; d += 32) s += to_float(out[r * Dh + d]) * to_float(dout[r * Dh + d]);
    s = warp_sum(s);
    // r = (b · T + i) · H + h  →  delta index (b · H + h) · T + i.
    const std::int64_t h = r % H, bi = r / H, i = bi % T_len, b = bi / T_len;
    if (lane == 0) delta[(b * H + h) * T_len + i] = s;
  }
}

// Step 2: dk and dv for a block of keys, looping over the query tiles that can
// see them. Shared: k, v [block_rows][Dh] (the block's keys), q, dout [tile][pitch].
template <class T, int DPL>
__global__ void __launch_bounds__(threads)
attention_dkdv_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                      const T* __restrict__ dout, const float* __restrict__ lse,
                      const float* __restrict__ delta, MaskRule m, std::int64_t T_len, std::int64_t H,
                      int Dh, float scale, T* __restrict__ dk, T* __restrict__ dv) {
  extern __shared__ float shared[];
  const int pitch = Dh | 1;
  float* k_s = shared;
  float* v_s = k_s + block_rows * Dh;
  float* q_s = v_s + block_rows * Dh;
  float* g_s = q_s + tile * pitch;
  __shared__ TileMask queries;
  __shared__ float lse_s[tile], delta_s[tile];
  __shared__ std::int64_t range[2];

  const std::int64_t b = blockIdx.z, h = blockIdx.y, j0 = static_cast<std::int64_t>(blockIdx.x) * block_rows;
  const Head head{H * Dh};
  const std::int64_t base = head.offset(b, T_len, h, Dh);
  const MaskRule row = m.row(b, T_len);
  const float* lse_row = lse + (b * H + h) * T_len;
  const float* delta_row = delta + (b * H + h) * T_len;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  load_rows(k + base, head.stride, j0, block_rows, T_len, Dh, k_s, Dh);
  load_rows(v + base, head.stride, j0, block_rows, T_len, Dh, v_s, Dh);
  if (threadIdx.x == 0) {
    // The smallest first query over the block's keys, and the end of the last key's segment
    // (segment ends never decrease along t).
    std::int64_t lo = T_len, last = j0;
    for (int r = 0; r < block_rows && j0 + r < T_len; ++r) {
      lo = min(lo, row.query_begin(j0 + r));
      last = j0 + r;
    }
    range[0] = lo;
    range[1] = row.end[last];
  }
  __syncthreads();

  float dk_acc[rows_per_warp][DPL], dv_acc[rows_per_warp][DPL];
  std::int32_t start_j[rows_per_warp];
  bool prompt_j[rows_per_warp];
  warp_row_facts(row, j0 + warp * rows_per_warp, T_len, start_j, prompt_j);
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr)
#pragma unroll
    for (int c = 0; c < DPL; ++c) dk_acc[rr][c] = dv_acc[rr][c] = 0.0f;

  for (std::int64_t t0 = range[0]; t0 < range[1]; t0 += tile) {
    __syncthreads();
    load_rows(q + base, head.stride, t0, tile, range[1], Dh, q_s, pitch);
    load_rows(dout + base, head.stride, t0, tile, range[1], Dh, g_s, pitch);
    load_tile_mask(row, t0, range[1], queries);
    for (int x = threadIdx.x; x < tile; x += blockDim.x) {
      const std::int64_t i = t0 + x;
      lse_s[x] = i < range[1] ? lse_row[i] : 0.0f;
      delta_s[x] = i < range[1] ? delta_row[i] : 0.0f;
    }
    __syncthreads();
    const std::int64_t i = t0 + lane;
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
      const int r = warp * rows_per_warp + rr;
      const std::int64_t j = j0 + r;
      const bool allowed = sees(i, queries.start[lane], queries.prompt[lane], j, start_j[rr], prompt_j[rr], row.prefix);
      float p = 0.0f, ds = 0.0f;
      if (allowed) {
        float qk = 0.0f, gv = 0.0f;
        for (int d = 0; d < Dh; ++d) {
          qk += q_s[lane * pitch + d] * k_s[r * Dh + d];
          gv += g_s[lane * pitch + d] * v_s[r * Dh + d];
        }
        p = expf(qk * scale - lse_s[lane]);
        ds = p * (gv - delta_s[lane]);
      }
      if (!__any_sync(0xffffffffu, allowed)) continue;
      for (int ii = 0; ii < tile; ++ii) {
        const float pi = __shfl_sync(0xffffffffu, p, ii);
        const float dsi = __shfl_sync(0xffffffffu, ds, ii);
#pragma unroll
        for (int c = 0; c < DPL; ++c) {
          const int d = lane + 32 * c;
          if (d < Dh) {
            dv_acc[rr][c] += pi * g_s[ii * pitch + d];
            dk_acc[rr][c] += dsi * q_s[ii * pitch + d];
          }
        }
      }
    }
  }

  const float dk_scale[rows_per_warp] = {scale, scale, scale, scale};
  const float dv_scale[rows_per_warp] = {1.0f, 1.0f, 1.0f, 1.0f};
  store_rows(dk + base, head.stride, j0 + warp * rows_per_warp, T_len, Dh, dk_acc, dk_scale);
  store_rows(dv + base, head.stride, j0 + warp * rows_per_warp, T_len, Dh, dv_acc, dv_scale);
}

// Step 3: dq for a block of queries, looping over the key tiles they see (the
// forward's tiles). Shared: q, dout [block_rows][Dh], k, v [tile][pitch].
template <class T, int DPL>
__global__ void __launch_bounds__(threads)
attention_dq_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                    const T* __restrict__ dout, const float* __restrict__ lse,
                    const float* __restrict__ delta, MaskRule m, std::int64_t T_len, std::int64_t H,
                    int Dh, float scale, T* __restrict__ dq) {
  extern __shared__ float shared[];
  const int pitch = Dh | 1;
  float* q_s = shared;
  float* g_s = q_s + block_rows * Dh;
  float* k_s = g_s + block_rows * Dh;
  float* v_s = k_s + tile * pitch;
  __shared__ TileMask keys;
  __shared__ std::int64_t range[2];

  const std::int64_t b = blockIdx.z, h = blockIdx.y, i0 = static_cast<std::int64_t>(blockIdx.x) * block_rows;
  const Head head{H * Dh};
  const std::int64_t base = head.offset(b, T_len, h, Dh);
  const MaskRule row = m.row(b, T_len);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  load_rows(q + base, head.stride, i0, block_rows, T_len, Dh, q_s, Dh);
  load_rows(dout + base, head.stride, i0, block_rows, T_len, Dh, g_s, Dh);
  block_key_range(row, i0, T_len, range);
  __syncthreads();

  float dq_acc[rows_per_warp][DPL], lse_i[rows_per_warp], delta_i[rows_per_warp];
  std::int32_t start_i[rows_per_warp];
  bool prompt_i[rows_per_warp];
  warp_row_facts(row, i0 + warp * rows_per_warp, T_len, start_i, prompt_i);
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    const bool valid = i < T_len;
    lse_i[rr] = valid ? lse[(b * H + h) * T_len + i] : 0.0f;
    delta_i[rr] = valid ? delta[(b * H + h) * T_len + i] : 0.0f;
#pragma unroll
    for (int c = 0; c < DPL; ++c) dq_acc[rr][c] = 0.0f;
  }

  for (std::int64_t j0 = range[0]; j0 < range[1]; j0 += tile) {
    __syncthreads();
    load_rows(k + base, head.stride, j0, tile, range[1], Dh, k_s, pitch);
    load_rows(v + base, head.stride, j0, tile, range[1], Dh, v_s, pitch);
    load_tile_mask(row, j0, range[1], keys);
    __syncthreads();
    const std::int64_t j = j0 + lane;
#pragma unroll
    for (int rr = 0; rr < rows_per_warp; ++rr) {
      const int r = warp * rows_per_warp + rr;
      const std::int64_t i = i0 + r;
      const bool allowed = sees(i, start_i[rr], prompt_i[rr], j, keys.start[lane], keys.prompt[lane], row.prefix);
      float ds = 0.0f;
      if (allowed) {
        float qk = 0.0f, gv = 0.0f;
        for (int d = 0; d < Dh; ++d) {
          qk += q_s[r * Dh + d] * k_s[lane * pitch + d];
          gv += g_s[r * Dh + d] * v_s[lane * pitch + d];
        }
        const float p = expf(qk * scale - lse_i[rr]);
        ds = p * (gv - delta_i[rr]);
      }
      if (!__any_sync(0xffffffffu, allowed)) continue;
      for (int jj = 0; jj < tile; ++jj) {
        const float dsj = __shfl_sync(0xffffffffu, ds, jj);
#pragma unroll
        for (int c = 0; c < DPL; ++c) {
          const int d = lane + 32 * c;
          if (d < Dh) dq_acc[rr][c] += dsj * k_s[jj * pitch + d];
        }
      }
    }
  }

  const float dq_scale[rows_per_warp] = {scale, scale, scale, scale};
  store_rows(dq + base, head.stride, i0 + warp * rows_per_warp, T_len, Dh, dq_acc, dq_scale);
}

}  // namespace

void attention_backward(DType dtype, const void* q, const void* k, const void* v,
                        const std::int32_t* reset, const std::int32_t* bounds, bool prefix, std::int64_t B, std::int64_t T,
                        std::int64_t H, std::int64_t Dh, const void* out, const float* lse,
                        const void* dout, void* dq, void* dk, void* dv, cudaStream_t stream) {
  if (B * T * H == 0) return;
  const dim3 grid = attention_grid(B, T, H, block_rows);
  const std::int32_t* start = bounds;
  const std::int32_t* end = bounds + B * T;
  const MaskRule mask{reset, start, end, prefix};
  float* delta = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&delta), sizeof(float) * B * H * T, stream));
  const int pitch = static_cast<int>(Dh | 1);
  const std::size_t shared = sizeof(float) * (2 * block_rows * Dh + 2 * tile * pitch);
  dispatch_f32_bf16(dtype, "attention", "q", [&](auto zero) {
    using E = decltype(zero);
    const auto* qe = static_cast<const E*>(q);
    const auto* ke = static_cast<const E*>(k);
    const auto* ve = static_cast<const E*>(v);
    const auto* ge = static_cast<const E*>(dout);
    const std::int64_t delta_blocks = std::min<std::int64_t>((B * T * H + warps - 1) / warps, 65535);
    attention_delta_kernel<E><<<static_cast<unsigned>(delta_blocks), threads, 0, stream>>>(
        static_cast<const E*>(out), ge, B, T, H, static_cast<int>(Dh), delta);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
    if (attention_tensor_cores_apply(dtype, Dh, {q, k, v, dout, dq, dk, dv}))
      return attention_backward_tensor_cores(q, k, v, reset, start, end, prefix, B, T, H, Dh, lse,
                                             delta, dout, dq, dk, dv, stream);
    visit_head_dim(Dh, [&](auto dpl) {
      constexpr int DPL = decltype(dpl)::value;
      allow_shared_memory(attention_dkdv_kernel<E, DPL>, shared);
      attention_dkdv_kernel<E, DPL><<<grid, threads, shared, stream>>>(
          qe, ke, ve, ge, lse, static_cast<const float*>(delta), mask, T, H, static_cast<int>(Dh),
          attention_scale(Dh), static_cast<E*>(dk), static_cast<E*>(dv));
      BIRDIE_CUDA_CHECK(cudaGetLastError());
      allow_shared_memory(attention_dq_kernel<E, DPL>, shared);
      attention_dq_kernel<E, DPL><<<grid, threads, shared, stream>>>(
          qe, ke, ve, ge, lse, static_cast<const float*>(delta), mask, T, H, static_cast<int>(Dh),
          attention_scale(Dh), static_cast<E*>(dq));
      BIRDIE_CUDA_CHECK(cudaGetLastError());
    });
  });
  BIRDIE_CUDA_CHECK(cudaFreeAsync(delta, stream));
}

}  // namespace birdie::kernels::cuda
