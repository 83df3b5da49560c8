// CUDA gated GeLU: out = gelu(a) ⊙ b and its backward, a grid-stride map over groups of VEC
// adjacent elements of a row (16-byte accesses when the width is a multiple of VEC and
// every pointer is 16-byte aligned, VEC scalar accesses otherwise: the same arithmetic, the
// same bits). One erff per element in the backward for GeLU and GeLU′.
#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/gated_gelu.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;

template <class T, int VEC>
__global__ void gated_gelu_forward_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                          std::int64_t rows, std::int64_t width, std::int64_t stride,
                                          bool vector, T* __restrict__ out) {
  const std::int64_t groups = width / VEC, total = rows * groups;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / groups, j = (i - r * groups) * VEC;
    float x[VEC], y[VEC], o[VEC];
    load_group<T, VEC>(a + r * stride + j, vector, x);
    load_group<T, VEC>(b + r * stride + j, vector, y);
#pragma unroll
    for (int k = 0; k < VEC; ++k) o[k] = gelu(x[k]) * y[k];
    store_group<T, VEC>(out + r * width + j, vector, o);
  }
}

template <class T, int VEC>
__global__ void gated_gelu_backward_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                           const T* __restrict__ dy, std::int64_t rows,
                                           std::int64_t width, std::int64_t stride, bool vector,
                                           T* __restrict__ da, T* __restrict__ db) {
  const std::int64_t groups = width / VEC, total = rows * groups;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / groups, j = (i - r * groups) * VEC;
    float x[VEC], y[VEC], g[VEC], dx[VEC], dz[VEC];
    load_group<T, VEC>(a + r * stride + j, vector, x);
    load_group<T, VEC>(b + r * stride + j, vector, y);
    load_group<T, VEC>(dy + r * width + j, vector, g);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float e = gelu_erf(x[k]);
      dx[k] = (g[k] * y[k]) * gelu_derivative_from_erf(x[k], e);
      dz[k] = g[k] * gelu_from_erf(x[k], e);
    }
    store_group<T, VEC>(da + r * stride + j, vector, dx);
    store_group<T, VEC>(db + r * stride + j, vector, dz);
  }
}

}  // namespace

void gated_gelu_forward(DType dtype, const void* a, const void* b, std::int64_t rows,
                        std::int64_t width, std::int64_t stride, void* out, cudaStream_t stream) {
  if (rows * width == 0) return;
  dispatch_f32_bf16(dtype, "gelu_mul_forward", "the tensors", [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = 16 / sizeof(T);
    const auto launch = [&](auto kernel, int group, bool vector) {
      kernel<<<grid_stride_blocks(rows * (width / group), threads), threads, 0, stream>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), rows, width, stride, vector, static_cast<T*>(out));
    };
    if (width % vec == 0)
      launch(gated_gelu_forward_kernel<T, vec>, vec, all_aligned16({a, b, out}));
    else
      launch(gated_gelu_forward_kernel<T, 1>, 1, false);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void gated_gelu_backward(DType dtype, const void* a, const void* b, const void* dy, std::int64_t rows,
                         std::int64_t width, std::int64_t stride, void* da, void* db,
                         cudaStream_t stream) {
  if (rows * width == 0) return;
  dispatch_f32_bf16(dtype, "gelu_mul_backward", "the tensors", [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = 16 / sizeof(T);
    const auto launch = [&](auto kernel, int group, bool vector) {
      kernel<<<grid_stride_blocks(rows * (width / group), threads), threads, 0, stream>>>(
          static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(dy), rows, width, stride,
          vector, static_cast<T*>(da), static_cast<T*>(db));
    };
    if (width % vec == 0)
      launch(gated_gelu_backward_kernel<T, vec>, vec, all_aligned16({a, b, dy, da, db}));
    else
      launch(gated_gelu_backward_kernel<T, 1>, 1, false);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
