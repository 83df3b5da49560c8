// CUDA element-type conversion among f32, f64 and bf16. To bf16: __float2bfloat16_rn,
// whose rule bfloat16::from_float reproduces bit for bit on the host (engine/dtype.h:
// nearest even, no flush to zero, every NaN becomes 0x7FFF); f64 goes through f32 first.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/elementwise.h"

namespace birdie::kernels::cuda {

namespace {

template <class To, class From>
__device__ __forceinline__ To convert_one(From v) {
  if constexpr (std::is_same_v<To, From>) return v;
  else if constexpr (std::is_same_v<To, __nv_bfloat16>) return __float2bfloat16_rn(static_cast<float>(v));
  else if constexpr (std::is_same_v<From, __nv_bfloat16>) return static_cast<To>(__bfloat162float(v));
  else return static_cast<To>(v);
}

template <class To, class From>
__global__ void convert_kernel(const From* __restrict__ in, To* __restrict__ out, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[i] = convert_one<To>(in[i]);
}

template <class Fn>
void visit(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::bf16: return fn(__nv_bfloat16{});
    default: throw Error(detail::concat("convert (CUDA): unsupported dtype ", dtype_name(dtype)));
  }
}

}  // namespace

void convert(DType from, DType to, const void* in, void* out, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int threads = 256;
  const unsigned blocks = grid_stride_blocks(n, threads);
  visit(from, [&](auto from_zero) {
    visit(to, [&](auto to_zero) {
      using F = decltype(from_zero);
      using T = decltype(to_zero);
      convert_kernel<T, F><<<blocks, threads, 0, stream>>>(static_cast<const F*>(in), static_cast<T*>(out), n);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
