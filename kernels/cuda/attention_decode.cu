// CUDA decoding attention: one block per head. The block's threads compute the n scores
// (a thread per key, the dot product in f32), reduce their maximum and the sum of the
// exponentials, then a thread per channel sums the weighted values. The scores live in a
// scratch buffer [H, n] in global memory (any cache length). A simple kernel: a decoded
// token's cost is a few GEMVs, and the scores of one query are n values per head.
//
// rotary_at_position: a thread per channel pair computes the angle in f64 exactly as
// kernels/cuda/rotary.cu does, and rotates that pair in every head in f32.
#include <algorithm>
#include <cmath>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/attention_decode.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;

// The reduction of `value` over the block (max or sum); every thread gets the result.
template <bool is_max>
__device__ float block_reduce(float value, float* shared32) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(0xffffffffu, value, offset);
    value = is_max ? fmaxf(value, other) : value + other;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  __syncthreads();  // shared32 may still be read by a previous reduction
  if (lane == 0) shared32[warp] = value;
  __syncthreads();
  float result = shared32[0];
  for (int w = 1; w < warps; ++w) result = is_max ? fmaxf(result, shared32[w]) : result + shared32[w];
  return result;
}

// Row b = blockIdx.y attends over its first n keys: n = positions[b] + 1 when positions
// is given (a cache per row, stride kv_row apart), else n_fixed.
template <class T>
__global__ void __launch_bounds__(threads)
attention_decode_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                        std::int64_t n_fixed, const std::int32_t* __restrict__ positions, std::int64_t kv_row,
                        std::int64_t scratch_row, std::int64_t H, std::int64_t Dh, float scale,
                        float* __restrict__ scratch, T* __restrict__ out) {
  extern __shared__ float q_shared[];  // [Dh]
  __shared__ float reduce_shared[threads / 32];
  const std::int64_t h = blockIdx.x, b = blockIdx.y;
  const std::int64_t n = positions ? static_cast<std::int64_t>(positions[b]) + 1 : n_fixed;
  q += b * H * Dh;
  out += b * H * Dh;
  k += b * kv_row;
  v += b * kv_row;
  float* p = scratch + b * scratch_row + h * (scratch_row / H);
  for (std::int64_t d = threadIdx.x; d < Dh; d += blockDim.x) q_shared[d] = to_float(q[h * Dh + d]);
  __syncthreads();

  float local_max = -INFINITY;
  for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const T* kj = k + (j * H + h) * Dh;
    float s = 0;
    for (std::int64_t d = 0; d < Dh; ++d) s += q_shared[d] * to_float(kj[d]);
    s *= scale;
    p[j] = s;
    local_max = fmaxf(local_max, s);
  }
  const float max_score = block_reduce<true>(local_max, reduce_shared);

  float local_sum = 0;
  for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float e = expf(p[j] - max_score);
    p[j] = e;
    local_sum += e;
  }
  const float total = block_reduce<false>(local_sum, reduce_shared);  // syncs: p is visible

  for (std::int64_t d = threadIdx.x; d < Dh; d += blockDim.x) {
    float acc = 0;
    for (std::int64_t j = 0; j < n; ++j) acc += p[j] * to_float(v[(j * H + h) * Dh + d]);
    out[h * Dh + d] = from_float<T>(acc / total);
  }
}

// The angle of channel pair d at `position`, in f64 as kernels/cuda/rotary.cu computes it.
__device__ __forceinline__ void rotary_angle(std::int64_t position, std::int64_t d, std::int64_t Dh, double log_base,
                                             float& sf, float& cf) {
  const double angle = static_cast<double>(position) *
                       exp(-2.0 * static_cast<double>(d) / static_cast<double>(Dh) * log_base);
  double s, c;
  sincos(angle, &s, &c);
  sf = static_cast<float>(s);
  cf = static_cast<float>(c);
}

// Row b = blockIdx.y: q[b] rotated in place and k[b] rotated into the key cache at
// positions[b], v[b] copied into the value cache there; a thread per (head, pair).
template <class T>
__global__ void __launch_bounds__(threads)
append_to_cache_kernel(T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                       const std::int32_t* __restrict__ positions, double log_base, std::int64_t H, std::int64_t Dh,
                       std::int64_t capacity, T* __restrict__ keys, T* __restrict__ values) {
  const std::int64_t b = blockIdx.y, half = Dh / 2;
  const std::int64_t position = positions[b];
  const std::int64_t row = b * H * Dh, cached = (b * capacity + position) * H * Dh;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < H * half;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t h = i / half, d = i % half, at = h * Dh + d;
    float sf, cf;
    rotary_angle(position, d, Dh, log_base, sf, cf);
    const float q1 = to_float(q[row + at]), q2 = to_float(q[row + at + half]);
    q[row + at] = from_float<T>(q1 * cf - q2 * sf);
    q[row + at + half] = from_float<T>(q2 * cf + q1 * sf);
    const float k1 = to_float(k[row + at]), k2 = to_float(k[row + at + half]);
    keys[cached + at] = from_float<T>(k1 * cf - k2 * sf);
    keys[cached + at + half] = from_float<T>(k2 * cf + k1 * sf);
    values[cached + at] = v[row + at];
    values[cached + at + half] = v[row + at + half];
  }
}

__global__ void advance_positions_kernel(std::int32_t* positions, std::int64_t B) {
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b < B) positions[b] += 1;
}

template <class T>
__global__ void __launch_bounds__(threads)
rotary_at_position_kernel(const T* x, std::int64_t position, double log_base, std::int64_t H,
                          std::int64_t Dh, T* y) {
  // x and y may alias: each pair is read before it is written.
  const std::int64_t half = Dh / 2;
  for (std::int64_t d = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; d < half;
       d += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float sf, cf;
    rotary_angle(position, d, Dh, log_base, sf, cf);
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t at = h * Dh + d;
      const float x1 = to_float(x[at]), x2 = to_float(x[at + half]);
      y[at] = from_float<T>(x1 * cf - x2 * sf);
      y[at + half] = from_float<T>(x2 * cf + x1 * sf);
    }
  }
}

}  // namespace

void attention_decode(DType dtype, const void* q, const void* k, const void* v, std::int64_t n,
                      std::int64_t H, std::int64_t Dh, void* out, cudaStream_t stream) {
  if (n == 0 || H == 0 || Dh == 0) return;
  float* scratch = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&scratch), sizeof(float) * H * n, stream));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  dispatch_f32_bf16(dtype, "attention_decode", "the tensors", [&](auto zero) {
    using E = decltype(zero);
    attention_decode_kernel<E><<<dim3(static_cast<unsigned>(H), 1), threads, sizeof(float) * Dh, stream>>>(
        static_cast<const E*>(q), static_cast<const E*>(k), static_cast<const E*>(v), n, nullptr, 0, H * n, H, Dh,
        scale, scratch, static_cast<E*>(out));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void rotary_at_position(DType dtype, const void* x, std::int64_t position, double base, std::int64_t H,
                        std::int64_t Dh, void* y, cudaStream_t stream) {
  const std::int64_t half = Dh / 2;
  if (half == 0 || H == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<std::int64_t>((half + threads - 1) / threads, 65535));
  dispatch_f32_bf16(dtype, "rotary_at_position", "the tensors", [&](auto zero) {
    using E = decltype(zero);
    rotary_at_position_kernel<E><<<blocks, threads, 0, stream>>>(static_cast<const E*>(x), position,
                                                                  std::log(base), H, Dh, static_cast<E*>(y));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void append_to_cache(DType dtype, void* q, const void* k, const void* v, const std::int32_t* positions, double base,
                     std::int64_t B, std::int64_t H, std::int64_t Dh, std::int64_t capacity, void* keys, void* values,
                     cudaStream_t stream) {
  const std::int64_t pairs = H * (Dh / 2);
  if (B == 0 || pairs == 0) return;
  const dim3 grid(static_cast<unsigned>(std::min<std::int64_t>((pairs + threads - 1) / threads, 65535)),
                  static_cast<unsigned>(B));
  dispatch_f32_bf16(dtype, "append_to_cache", "the tensors", [&](auto zero) {
    using E = decltype(zero);
    append_to_cache_kernel<E><<<grid, threads, 0, stream>>>(static_cast<E*>(q), static_cast<const E*>(k),
                                                            static_cast<const E*>(v), positions, std::log(base), H,
                                                            Dh, capacity, static_cast<E*>(keys),
                                                            static_cast<E*>(values));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void attention_decode_cached(DType dtype, const void* q, const void* keys, const void* values,
                             const std::int32_t* positions, std::int64_t B, std::int64_t H, std::int64_t Dh,
                             std::int64_t capacity, void* out, cudaStream_t stream) {
  if (B == 0 || H == 0 || Dh == 0 || capacity == 0) return;
  // Scratch for a full cache per row: its size, and so a captured graph, does not depend
  // on the lengths.
  float* scratch = nullptr;
  BIRDIE_CUDA_CHECK(
      cudaMallocAsync(reinterpret_cast<void**>(&scratch), sizeof(float) * B * H * capacity, stream));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  dispatch_f32_bf16(dtype, "attention_decode_cached", "the tensors", [&](auto zero) {
    using E = decltype(zero);
    attention_decode_kernel<E><<<dim3(static_cast<unsigned>(H), static_cast<unsigned>(B)), threads,
                                 sizeof(float) * Dh, stream>>>(
        static_cast<const E*>(q), static_cast<const E*>(keys), static_cast<const E*>(values), 0, positions,
        capacity * H * Dh, H * capacity, H, Dh, scale, scratch, static_cast<E*>(out));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void advance_positions(std::int32_t* positions, std::int64_t B, cudaStream_t stream) {
  if (B == 0) return;
  advance_positions_kernel<<<static_cast<unsigned>((B + threads - 1) / threads), threads, 0, stream>>>(positions, B);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
