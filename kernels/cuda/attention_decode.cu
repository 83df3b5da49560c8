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

template <class T>
__global__ void __launch_bounds__(threads)
attention_decode_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                        std::int64_t n, std::int64_t H, std::int64_t Dh, float scale,
                        float* __restrict__ scratch, T* __restrict__ out) {
  extern __shared__ float q_shared[];  // [Dh]
  __shared__ float reduce_shared[threads / 32];
  const std::int64_t h = blockIdx.x;
  float* p = scratch + h * n;
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

template <class T>
__global__ void __launch_bounds__(threads)
rotary_at_position_kernel(const T* x, std::int64_t position, double log_base, std::int64_t H,
                          std::int64_t Dh, T* y) {
  // x and y may alias: each pair is read before it is written.
  const std::int64_t half = Dh / 2;
  for (std::int64_t d = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; d < half;
       d += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double angle = static_cast<double>(position) *
                         exp(-2.0 * static_cast<double>(d) / static_cast<double>(Dh) * log_base);
    double s, c;
    sincos(angle, &s, &c);
    const float sf = static_cast<float>(s), cf = static_cast<float>(c);
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t at = h * Dh + d;
      const float x1 = to_float(x[at]), x2 = to_float(x[at + half]);
      y[at] = from_float<T>(x1 * cf - x2 * sf);
      y[at + half] = from_float<T>(x2 * cf + x1 * sf);
    }
  }
}

template <class Run>
void by_dtype(DType dtype, const char* op, const Run& run) {
  if (dtype == DType::f32)
    run(float{});
  else if (dtype == DType::bf16)
    run(__nv_bfloat16{});
  else
    throw Error(detail::concat(op, " (CUDA): the tensors must be f32 or bf16, got ", dtype_name(dtype)));
}

}  // namespace

void attention_decode(DType dtype, const void* q, const void* k, const void* v, std::int64_t n,
                      std::int64_t H, std::int64_t Dh, void* out, cudaStream_t stream) {
  if (n == 0 || H == 0 || Dh == 0) return;
  float* scratch = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&scratch), sizeof(float) * H * n, stream));
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  by_dtype(dtype, "attention_decode", [&](auto zero) {
    using E = decltype(zero);
    attention_decode_kernel<E><<<static_cast<unsigned>(H), threads, sizeof(float) * Dh, stream>>>(
        static_cast<const E*>(q), static_cast<const E*>(k), static_cast<const E*>(v), n, H, Dh, scale, scratch,
        static_cast<E*>(out));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(scratch, stream));
}

void rotary_at_position(DType dtype, const void* x, std::int64_t position, double base, std::int64_t H,
                        std::int64_t Dh, void* y, cudaStream_t stream) {
  const std::int64_t half = Dh / 2;
  if (half == 0 || H == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<std::int64_t>((half + threads - 1) / threads, 65535));
  by_dtype(dtype, "rotary_at_position", [&](auto zero) {
    using E = decltype(zero);
    rotary_at_position_kernel<E><<<blocks, threads, 0, stream>>>(static_cast<const E*>(x), position,
                                                                  std::log(base), H, Dh, static_cast<E*>(y));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
