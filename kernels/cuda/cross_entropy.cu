// CUDA fused softmax cross-entropy: no softmax tensor, one block per row.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device_math.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 512;

// Merges two (max, Σ exp(x − max)) pairs.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
  if (m2 == -INFINITY) return;
  if (m == -INFINITY) { m = m2; s = s2; return; }
  const float mx = fmaxf(m, m2);
  s = s * expf(m - mx) + s2 * expf(m2 - mx);
  m = mx;
}

template <class T, class S>
__global__ void __launch_bounds__(threads)
cross_entropy_kernel(const T* __restrict__ logits, const std::int32_t* __restrict__ targets,
                     std::int64_t V, float grad_scale, S* __restrict__ row_loss,
                     T* __restrict__ dlogits) {
  __shared__ float scratch_m[32], scratch_s[32];
  const std::int64_t row = blockIdx.x;
  const T* l = logits + row * V;
  T* d = dlogits ? dlogits + row * V : nullptr;
  const std::int32_t target = targets[row];
  if (target < 0 || target >= V) {  // ignored (or invalid, reported by the count kernel)
    if (threadIdx.x == 0) row_loss[row] = from_float<S>(0.0f);
    if (d)
      for (std::int64_t j = threadIdx.x; j < V; j += blockDim.x) d[j] = from_float<T>(0.0f);
    return;
  }
  float m = -INFINITY, s = 0.0f;
  for (std::int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    const float v = to_float(l[j]);
    if (v > m) {
      s = (m == -INFINITY ? 0.0f : s * expf(m - v)) + 1.0f;
      m = v;
    } else {
      s += expf(v - m);
    }
  }
  // Warp, then block combination of the (max, sum) pairs.
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, offset);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, offset);
    merge(m, s, m2, s2);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) scratch_m[warp] = m, scratch_s[warp] = s;
  __syncthreads();
  const int warps = blockDim.x >> 5;
  m = lane < warps ? scratch_m[lane] : -INFINITY;
  s = lane < warps ? scratch_s[lane] : 0.0f;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, offset);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, offset);
    merge(m, s, m2, s2);
  }
  if (threadIdx.x == 0) row_loss[row] = from_float<S>(logf(s) + m - to_float(l[target]));
  if (!d) return;
  const float scale = grad_scale / s;
  for (std::int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    float g = expf(to_float(l[j]) - m) * scale;
    if (j == target) g -= grad_scale;
    d[j] = from_float<T>(g);
  }
}

// counts[0] += counted rows, counts[1] += invalid targets.
__global__ void count_targets(const std::int32_t* __restrict__ targets, std::int64_t rows,
                              std::int64_t V, unsigned long long* __restrict__ counts) {
  unsigned long long counted = 0, invalid = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int32_t t = targets[i];
    counted += t >= 0 && t < V;
    invalid += t != -1 && (t < 0 || t >= V);
  }
  if (counted) atomicAdd(&counts[0], counted);
  if (invalid) atomicAdd(&counts[1], invalid);
}

}  // namespace

std::int64_t cross_entropy_forward_backward(DType dtype, DType loss_dtype, const void* logits,
                                            const std::int32_t* targets, std::int64_t rows,
                                            std::int64_t V, double grad_scale, void* row_loss,
                                            void* dlogits, cudaStream_t stream) {
  if (rows == 0) return 0;
  BIRDIE_CHECK(rows <= INT32_MAX, "cross_entropy (CUDA): too many rows");
  unsigned long long* counts = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&counts), 2 * sizeof(unsigned long long), stream));
  BIRDIE_CUDA_CHECK(cudaMemsetAsync(counts, 0, 2 * sizeof(unsigned long long), stream));
  count_targets<<<static_cast<unsigned>(std::min<std::int64_t>((rows + 255) / 256, 1024)), 256, 0, stream>>>(
      targets, rows, V, counts);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  auto launch = [&](auto logit_zero, auto loss_zero) {
    using T = decltype(logit_zero);
    using S = decltype(loss_zero);
    cross_entropy_kernel<T, S><<<static_cast<unsigned>(rows), threads, 0, stream>>>(
        static_cast<const T*>(logits), targets, V, static_cast<float>(grad_scale),
        static_cast<S*>(row_loss), static_cast<T*>(dlogits));
  };
  if (dtype == DType::f32 && loss_dtype == DType::f32) launch(float{}, float{});
  else if (dtype == DType::bf16 && loss_dtype == DType::f32) launch(__nv_bfloat16{}, float{});
  else if (dtype == DType::bf16 && loss_dtype == DType::bf16) launch(__nv_bfloat16{}, __nv_bfloat16{});
  else {
    (void)cudaFreeAsync(counts, stream);
    throw Error(detail::concat("cross_entropy (CUDA): logits ", dtype_name(dtype), " with row loss ",
                               dtype_name(loss_dtype), " is not supported (f32/f32, bf16/f32, bf16/bf16)"));
  }
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  unsigned long long host[2] = {0, 0};
  BIRDIE_CUDA_CHECK(cudaMemcpyAsync(host, counts, sizeof(host), cudaMemcpyDeviceToHost, stream));
  BIRDIE_CUDA_CHECK(cudaFreeAsync(counts, stream));
  BIRDIE_CUDA_CHECK(cudaStreamSynchronize(stream));
  BIRDIE_CHECK(host[1] == 0, "cross_entropy (CUDA): ", host[1], " targets are outside the vocabulary [0, ",
               V, ") and are not the ignore index -1");
  return static_cast<std::int64_t>(host[0]);
}

}  // namespace birdie::kernels::cuda
