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
// the backward, D.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/attention_common.cuh"
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"

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
  const std::int64_t rows = b * T_len;  // offset of this batch row in reset/start/end
  const MaskRule row{m.reset + rows, m.start + rows, m.end + rows, m.prefix};
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  load_rows(q + base, head.stride, i0, block_rows, T_len, Dh, q_s, Dh);
  if (threadIdx.x == 0) {
    // Segment starts never decrease along t: the first query's is the tile's smallest.
    std::int64_t hi = 0;
    for (int r = 0; r < block_rows && i0 + r < T_len; ++r) hi = max(hi, row.key_end(i0 + r));
    range[0] = row.start[i0];
    range[1] = hi;
  }
  __syncthreads();

  float m_run[rows_per_warp], l_run[rows_per_warp], acc[rows_per_warp][DPL];
  std::int32_t start_i[rows_per_warp];
  bool prompt_i[rows_per_warp];
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    m_run[rr] = -INFINITY;
    l_run[rr] = 0.0f;
    start_i[rr] = i < T_len ? row.start[i] : -2;  // −2 matches no key (−1 marks keys past T)
    prompt_i[rr] = i < T_len && row.prompt(i);
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

#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    if (i >= T_len) continue;
    const float inv = 1.0f / l_run[rr];  // every token sees itself: l ≥ 1
#pragma unroll
    for (int c = 0; c < DPL; ++c) {
      const int d = lane + 32 * c;
      if (d < Dh) out[base + i * head.stride + d] = from_float<T>(acc[rr][c] * inv);
    }
    if (lane == 0) lse[(b * H + h) * T_len + i] = m_run[rr] + logf(l_run[rr]);
  }
}

// ---------------------------------------------------------------------------------------
// Backward, step 1: delta[b, h, i] = Σ_d dout ⊙ out (f32), a warp per (b, i, h).
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

// Backward, step 2: dk and dv for a block of keys, looping over the query tiles that can
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
  const std::int64_t rows = b * T_len;
  const MaskRule row{m.reset + rows, m.start + rows, m.end + rows, m.prefix};
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
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t j = j0 + warp * rows_per_warp + rr;
    start_j[rr] = j < T_len ? row.start[j] : -2;
    prompt_j[rr] = j < T_len && row.prompt(j);
#pragma unroll
    for (int c = 0; c < DPL; ++c) dk_acc[rr][c] = dv_acc[rr][c] = 0.0f;
  }

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

#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t j = j0 + warp * rows_per_warp + rr;
    if (j >= T_len) continue;
#pragma unroll
    for (int c = 0; c < DPL; ++c) {
      const int d = lane + 32 * c;
      if (d < Dh) {
        dk[base + j * head.stride + d] = from_float<T>(dk_acc[rr][c] * scale);
        dv[base + j * head.stride + d] = from_float<T>(dv_acc[rr][c]);
      }
    }
  }
}

// Backward, step 3: dq for a block of queries, looping over the key tiles they see (the
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
  const std::int64_t rows = b * T_len;
  const MaskRule row{m.reset + rows, m.start + rows, m.end + rows, m.prefix};
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  load_rows(q + base, head.stride, i0, block_rows, T_len, Dh, q_s, Dh);
  load_rows(dout + base, head.stride, i0, block_rows, T_len, Dh, g_s, Dh);
  if (threadIdx.x == 0) {
    std::int64_t hi = 0;
    for (int r = 0; r < block_rows && i0 + r < T_len; ++r) hi = max(hi, row.key_end(i0 + r));
    range[0] = row.start[i0];
    range[1] = hi;
  }
  __syncthreads();

  float dq_acc[rows_per_warp][DPL], lse_i[rows_per_warp], delta_i[rows_per_warp];
  std::int32_t start_i[rows_per_warp];
  bool prompt_i[rows_per_warp];
#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    const bool valid = i < T_len;
    start_i[rr] = valid ? row.start[i] : -2;
    prompt_i[rr] = valid && row.prompt(i);
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

#pragma unroll
  for (int rr = 0; rr < rows_per_warp; ++rr) {
    const std::int64_t i = i0 + warp * rows_per_warp + rr;
    if (i >= T_len) continue;
#pragma unroll
    for (int c = 0; c < DPL; ++c) {
      const int d = lane + 32 * c;
      if (d < Dh) dq[base + i * head.stride + d] = from_float<T>(dq_acc[rr][c] * scale);
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

template <class Kernel, class... Args>
void launch_attention(Kernel kernel, dim3 grid, int threads, std::size_t shared, cudaStream_t stream, Args... args) {
  allow_shared_memory(kernel, shared);
  kernel<<<grid, threads, shared, stream>>>(args...);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
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
      launch_attention(attention_forward_kernel<E, decltype(dpl)::value>, grid, threads, shared, stream,
             static_cast<const E*>(q), static_cast<const E*>(k), static_cast<const E*>(v), mask, T, H,
             static_cast<int>(Dh), attention_scale(Dh), static_cast<E*>(out), lse);
    });
  });
}

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
      launch_attention(attention_dkdv_kernel<E, DPL>, grid, threads, shared, stream, qe, ke, ve, ge, lse,
             static_cast<const float*>(delta), mask, T, H, static_cast<int>(Dh), attention_scale(Dh),
             static_cast<E*>(dk), static_cast<E*>(dv));
      launch_attention(attention_dq_kernel<E, DPL>, grid, threads, shared, stream, qe, ke, ve, ge, lse,
             static_cast<const float*>(delta), mask, T, H, static_cast<int>(Dh), attention_scale(Dh),
             static_cast<E*>(dq));
    });
  });
  BIRDIE_CUDA_CHECK(cudaFreeAsync(delta, stream));
}

}  // namespace birdie::kernels::cuda
