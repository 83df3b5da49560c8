// CUDA reductions in double precision for the global gradient norm and loss sums.
#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/reduce.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;
constexpr int partial_blocks = 512;  // fixed, so the order never depends on the device

__device__ __forceinline__ double as_double(float v) { return v; }
__device__ __forceinline__ double as_double(double v) { return v; }
__device__ __forceinline__ double as_double(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T>
__global__ void partial_kernel(const T* __restrict__ x, std::int64_t n, ReduceOp op,
                               double* __restrict__ partial) {
  __shared__ double scratch[32];
  double acc = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double v = as_double(x[i]);
    acc += op == ReduceOp::sum ? v : v * v;
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <class O>
__global__ void finish_kernel(const double* __restrict__ partial, int count, double scale,
                              O* __restrict__ result) {
  __shared__ double scratch[32];
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) *result = static_cast<O>(acc * scale);
}

}  // namespace

void reduce(DType dtype, ReduceOp op, const void* x, std::int64_t n, double scale,
            DType result_dtype, void* result, cudaStream_t stream) {
  BIRDIE_CHECK(result_dtype == DType::f32 || result_dtype == DType::f64,
               "reduce (CUDA): the result is f32 or f64, got ", dtype_name(result_dtype));
  double* partial = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partial), sizeof(double) * partial_blocks, stream));
  switch (dtype) {
    case DType::f32:
      partial_kernel<float><<<partial_blocks, threads, 0, stream>>>(static_cast<const float*>(x), n, op, partial);
      break;
    case DType::f64:
      partial_kernel<double><<<partial_blocks, threads, 0, stream>>>(static_cast<const double*>(x), n, op, partial);
      break;
    case DType::bf16:
      partial_kernel<__nv_bfloat16><<<partial_blocks, threads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), n, op, partial);
      break;
    default:
      BIRDIE_CUDA_CHECK(cudaFreeAsync(partial, stream));
      throw Error(detail::concat("reduce (CUDA): takes f32, f64 or bf16, got ", dtype_name(dtype)));
  }
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  if (result_dtype == DType::f64)
    finish_kernel<double><<<1, threads, 0, stream>>>(partial, partial_blocks, scale, static_cast<double*>(result));
  else
    finish_kernel<float><<<1, threads, 0, stream>>>(partial, partial_blocks, scale, static_cast<float*>(result));
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

}  // namespace birdie::kernels::cuda
