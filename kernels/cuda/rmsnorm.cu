// CUDA RMSNorm forward (optionally fused with the residual add) and backward. One block
// per row; the weight gradient is a fixed-order two-pass column reduction.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/rmsnorm.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;
constexpr std::int64_t max_backward_blocks = 256;

template <class T, class S>
__global__ void __launch_bounds__(threads)
rmsnorm_forward_kernel(const T* __restrict__ x, const T* __restrict__ residual,
                       T* __restrict__ residual_out, const T* __restrict__ weight, float eps,
                       std::int64_t D, T* __restrict__ y, S* __restrict__ inv_rms) {
  __shared__ float scratch[32];
  const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * D;
  float squares = 0.0f;
  for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    float v = to_float(x[base + j]);
    if (residual) {
      const T stored = from_float<T>(v + to_float(residual[base + j]));
      residual_out[base + j] = stored;
      v = to_float(stored);
    }
    squares += v * v;
  }
  squares = block_sum(squares, scratch);
  const float inv = 1.0f / sqrtf(squares / static_cast<float>(D) + eps);
  if (threadIdx.x == 0) inv_rms[blockIdx.x] = from_float<S>(inv);
  // The stored statistic is what the backward pass will use; normalize with it too.
  const float inv_used = to_float(from_float<S>(inv));
  for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const float v = residual ? to_float(residual_out[base + j]) : to_float(x[base + j]);
    y[base + j] = from_float<T>(v * inv_used * to_float(weight[j]));
  }
}

// dx = inv · (dy⊙w − n · mean(dy⊙w⊙n)), n = x·inv; partial[block, j] = Σ_rows dy⊙n over
// this block's rows (each thread owns columns j ≡ threadIdx.x, so no atomics).
template <class T, class S>
__global__ void __launch_bounds__(threads)
rmsnorm_backward_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                        const S* __restrict__ inv_rms, const T* __restrict__ dy,
                        std::int64_t rows, std::int64_t D, T* __restrict__ dx,
                        float* __restrict__ partial) {
  extern __shared__ float column_acc[];
  __shared__ float scratch[32];
  for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x) column_acc[j] = 0.0f;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = r * D;
    const float inv = to_float(inv_rms[r]);
    float dot = 0.0f;
    for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x)
      dot += to_float(dy[base + j]) * to_float(weight[j]) * to_float(x[base + j]) * inv;
    dot = block_sum(dot, scratch);
    const float mean_dot = dot / static_cast<float>(D);
    for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const float g = to_float(dy[base + j]);
      const float n = to_float(x[base + j]) * inv;
      dx[base + j] = from_float<T>(inv * (g * to_float(weight[j]) - n * mean_dot));
      column_acc[j] += g * n;
    }
  }
  for (std::int64_t j = threadIdx.x; j < D; j += blockDim.x) partial[blockIdx.x * D + j] = column_acc[j];
}

template <class W>
__global__ void weight_gradient_finish(const float* __restrict__ partial, int blocks, std::int64_t D,
                                       W* __restrict__ dweight) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= D) return;
  float acc = 0.0f;
  for (int b = 0; b < blocks; ++b) acc += partial[b * D + j];
  dweight[j] = from_float<W>(to_float(dweight[j]) + acc);
}

template <class Fn>
void visit(DType dtype, const char* what, Fn&& fn) {
  if (dtype == DType::f32) return fn(float{});
  if (dtype == DType::bf16) return fn(__nv_bfloat16{});
  throw Error(detail::concat("rmsnorm (CUDA): ", what, " must be f32 or bf16, got ", dtype_name(dtype)));
}

}  // namespace

void rmsnorm_forward(DType dtype, DType stats, const void* x, const void* residual,
                     void* residual_out, const void* weight, double eps, std::int64_t rows,
                     std::int64_t D, void* y, void* inv_rms, cudaStream_t stream) {
  if (rows == 0) return;
  BIRDIE_CHECK(rows <= INT32_MAX, "rmsnorm (CUDA): too many rows");
  visit(dtype, "x", [&](auto xz) {
    visit(stats, "inv_rms", [&](auto sz) {
      using T = decltype(xz);
      using S = decltype(sz);
      rmsnorm_forward_kernel<T, S><<<static_cast<unsigned>(rows), threads, 0, stream>>>(
          static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(residual_out),
          static_cast<const T*>(weight), static_cast<float>(eps), D, static_cast<T*>(y),
          static_cast<S*>(inv_rms));
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm_backward(DType dtype, DType stats, DType dweight_dtype, const void* x,
                      const void* weight, const void* inv_rms, const void* dy, std::int64_t rows,
                      std::int64_t D, void* dx, void* dweight, cudaStream_t stream) {
  if (rows == 0 || D == 0) return;
  BIRDIE_CHECK(D <= 40960, "rmsnorm_backward (CUDA): the row width ", D,
               " exceeds 40960 (the weight-gradient accumulator lives in shared memory)");
  const int blocks = static_cast<int>(std::min(rows, max_backward_blocks));
  float* partial = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partial), sizeof(float) * blocks * D, stream));
  const std::size_t shared = sizeof(float) * D;
  visit(dtype, "x", [&](auto xz) {
    visit(stats, "inv_rms", [&](auto sz) {
      using T = decltype(xz);
      using S = decltype(sz);
      auto kernel = rmsnorm_backward_kernel<T, S>;
      if (shared > 48 * 1024)
        BIRDIE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(shared)));
      kernel<<<blocks, threads, shared, stream>>>(
          static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const S*>(inv_rms),
          static_cast<const T*>(dy), rows, D, static_cast<T*>(dx), partial);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  visit(dweight_dtype, "dweight", [&](auto wz) {
    using W = decltype(wz);
    weight_gradient_finish<W><<<static_cast<unsigned>((D + threads - 1) / threads), threads, 0, stream>>>(
        partial, blocks, D, static_cast<W*>(dweight));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

}  // namespace birdie::kernels::cuda
