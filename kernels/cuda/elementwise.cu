// CUDA elementwise kernels: binary/unary maps, gradient accumulation, the reductions that
// undo broadcasts. Grid-stride loops; f32 math whatever the storage type.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/elementwise.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;
constexpr std::int64_t max_row_blocks = 1 << 20;

// Grid-stride launches (device_math.cuh).
unsigned blocks_for(std::int64_t n) { return grid_stride_blocks(n, threads); }

__device__ __forceinline__ float apply(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::mul: return x * y;
    case BinaryOp::sigmoid_backward: return y * x * (1.0f - x);
    default: return y * gelu_derivative(x);
  }
}

__device__ __forceinline__ float apply(UnaryOp op, float v, float factor) {
  switch (op) {
    case UnaryOp::scale: return v * factor;
    case UnaryOp::sigmoid: return sigmoid(v);
    default: return gelu(v);
  }
}

// Elements VEC at a time (one 16-byte access per operand when VEC · sizeof(T) = 16; the
// launcher checks alignment and that n and nb are multiples of VEC, else VEC = 1). The
// arithmetic per element is the same on both paths, so are the results.
template <class T, int VEC>
__global__ void binary_kernel(BinaryOp op, const T* __restrict__ a, const T* b, T* out,
                              std::int64_t n, std::int64_t nb) {
  for (std::int64_t i = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * VEC; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x * VEC) {
    float x[VEC], y[VEC], r[VEC];
    load_vec<T, VEC>(a + i, x);
    load_vec<T, VEC>(b + (nb == n ? i : i % nb), y);
#pragma unroll
    for (int k = 0; k < VEC; ++k) r[k] = apply(op, x[k], y[k]);
    store_vec<T, VEC>(out + i, r);
  }
}

template <class T, int VEC>
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, std::int64_t n, float factor) {
  for (std::int64_t i = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * VEC; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x * VEC) {
    float v[VEC], r[VEC];
    load_vec<T, VEC>(x + i, v);
#pragma unroll
    for (int k = 0; k < VEC; ++k) r[k] = apply(op, v[k], factor);
    store_vec<T, VEC>(out + i, r);
  }
}

template <class T>
__global__ void scale_by_device_scalar_kernel(T* x, const float* __restrict__ factor, std::int64_t n) {
  const float f = *factor;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    x[i] = from_float<T>(to_float(x[i]) * f);
}

template <class D, class S>
__global__ void accumulate_kernel(D* dst, const S* __restrict__ src, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = from_float<D>(to_float(dst[i]) + to_float(src[i]));
}

// Column sums in two passes: pass 1 sums a fixed slice of rows per (split, column) into
// partial[split, column]; pass 2 adds the splits in order. Both orders are fixed.
constexpr int max_splits = 64;

template <class T>
__global__ void column_partial_kernel(const T* __restrict__ in, float* __restrict__ partial,
                                      std::int64_t rows, std::int64_t width, std::int64_t rows_per_split) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= width) return;
  const std::int64_t r0 = blockIdx.y * rows_per_split;
  const std::int64_t r1 = min(rows, r0 + rows_per_split);
  float acc = 0.0f;
  for (std::int64_t r = r0; r < r1; ++r) acc += to_float(in[r * width + j]);
  partial[blockIdx.y * width + j] = acc;
}

template <class O>
__global__ void column_finish_kernel(const float* __restrict__ partial, O* __restrict__ out,
                                     std::int64_t width, int splits) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= width) return;
  float acc = 0.0f;
  for (int s = 0; s < splits; ++s) acc += partial[s * width + j];
  out[j] = from_float<O>(acc);
}

// A block per row, grid-stride over rows (the loop is uniform over the block, as
// block_sum needs).
template <class T, class O>
__global__ void row_sum_kernel(const T* __restrict__ in, O* __restrict__ out, std::int64_t rows,
                               std::int64_t width) {
  __shared__ float scratch[32];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = in + r * width;
    float acc = 0.0f;
    for (std::int64_t j = threadIdx.x; j < width; j += blockDim.x) acc += to_float(row[j]);
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[r] = from_float<O>(acc);
  }
}

}  // namespace

void binary(DType dtype, BinaryOp op, const void* a, const void* b, void* out, std::int64_t n,
            std::int64_t nb, cudaStream_t stream) {
  if (n == 0) return;
  dispatch_f32_bf16(dtype, "elementwise", "the tensors", [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = 16 / sizeof(T);
    if (n % vec == 0 && nb % vec == 0 && aligned16(a) && aligned16(b) && aligned16(out))
      binary_kernel<T, vec><<<blocks_for(n / vec), threads, 0, stream>>>(
          op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n, nb);
    else
      binary_kernel<T, 1><<<blocks_for(n), threads, 0, stream>>>(
          op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n, nb);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void unary(DType dtype, UnaryOp op, const void* x, void* out, std::int64_t n, double factor,
           cudaStream_t stream) {
  if (n == 0) return;
  dispatch_f32_bf16(dtype, "elementwise", "the tensors", [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = 16 / sizeof(T);
    if (n % vec == 0 && aligned16(x) && aligned16(out))
      unary_kernel<T, vec><<<blocks_for(n / vec), threads, 0, stream>>>(
          op, static_cast<const T*>(x), static_cast<T*>(out), n, static_cast<float>(factor));
    else
      unary_kernel<T, 1><<<blocks_for(n), threads, 0, stream>>>(
          op, static_cast<const T*>(x), static_cast<T*>(out), n, static_cast<float>(factor));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void scale_by_device_scalar(DType dtype, void* x, const float* factor, std::int64_t n,
                            cudaStream_t stream) {
  if (n == 0) return;
  dispatch_f32_bf16(dtype, "scale_by_device_scalar", "the tensors", [&](auto zero) {
    using T = decltype(zero);
    scale_by_device_scalar_kernel<T><<<blocks_for(n), threads, 0, stream>>>(static_cast<T*>(x), factor, n);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void accumulate(DType dst_dtype, DType src_dtype, void* dst, const void* src, std::int64_t n,
                cudaStream_t stream) {
  if (n == 0) return;
  dispatch_f32_bf16(dst_dtype, "accumulate", "the tensors", [&](auto dst_zero) {
    dispatch_f32_bf16(src_dtype, "accumulate", "the tensors", [&](auto src_zero) {
      using D = decltype(dst_zero);
      using S = decltype(src_zero);
      accumulate_kernel<D, S><<<blocks_for(n), threads, 0, stream>>>(
          static_cast<D*>(dst), static_cast<const S*>(src), n);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void sum_to_trailing(DType in_dtype, DType out_dtype, const void* in, void* out,
                     std::int64_t rows, std::int64_t width, cudaStream_t stream) {
  if (width == 0) return;
  const int splits = static_cast<int>(std::clamp<std::int64_t>(rows / 256, 1, max_splits));
  const std::int64_t rows_per_split = (rows + splits - 1) / splits;
  float* partial = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partial), sizeof(float) * splits * width, stream));
  const unsigned column_blocks = static_cast<unsigned>((width + threads - 1) / threads);
  // The partials are f32 whatever the types, so each pass has only its own.
  dispatch_f32_bf16(in_dtype, "sum_to_trailing", "the tensors", [&](auto in_zero) {
    using T = decltype(in_zero);
    column_partial_kernel<T><<<dim3(column_blocks, splits), threads, 0, stream>>>(
        static_cast<const T*>(in), partial, rows, width, rows_per_split);
  });
  dispatch_f32_bf16(out_dtype, "sum_to_trailing", "the tensors", [&](auto out_zero) {
    using O = decltype(out_zero);
    column_finish_kernel<O><<<column_blocks, threads, 0, stream>>>(partial, static_cast<O*>(out), width, splits);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

void sum_rows(DType in_dtype, DType out_dtype, const void* in, void* out, std::int64_t rows,
              std::int64_t width, cudaStream_t stream) {
  if (rows == 0) return;
  dispatch_f32_bf16(in_dtype, "sum_rows", "the tensors", [&](auto in_zero) {
    dispatch_f32_bf16(out_dtype, "sum_rows", "the tensors", [&](auto out_zero) {
      using T = decltype(in_zero);
      using O = decltype(out_zero);
      row_sum_kernel<T, O><<<static_cast<unsigned>(std::min<std::int64_t>(rows, max_row_blocks)), threads, 0,
                             stream>>>(static_cast<const T*>(in), static_cast<O*>(out), rows, width);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
