// Helpers shared by the .cu files of kernels/cuda/ (never included by host .cpp files):
// device math mirroring kernels/cpu/math.h in fp32, vector access, and the launchers'
// alignment test, block count and recurrence halves.
#pragma once

#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

namespace birdie::kernels::cuda {

// Whether a 16-byte vector path may use p (null counts as aligned: an absent operand).
inline bool aligned16(const void* p) { return p == nullptr || reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Whether every pointer may take the 16-byte vector path.
inline bool all_aligned16(std::initializer_list<const void*> pointers) {
  for (const void* p : pointers)
    if (!aligned16(p)) return false;
  return true;
}

// Blocks of `threads` threads enough for `lanes` threads.
inline unsigned block_count(std::int64_t lanes, int threads) {
  return static_cast<unsigned>((lanes + threads - 1) / threads);
}

// A grid-stride launch over n items: enough blocks of `threads` for one item a thread, at
// least one, at most 65536 (the loops stride with 64-bit indices, so n is not limited by
// the grid).
inline unsigned grid_stride_blocks(std::int64_t n, int threads) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((n + threads - 1) / threads, 1, 65536));
}

// The channels [0, forward) of a recurrence's state of `channels` that carry state from
// token to token: all, or the causal half of a bidirectional one (its reverse half does not).
inline std::int64_t forward_channels(bool bidirectional, std::int64_t channels) {
  return bidirectional ? channels / 2 : channels;
}

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <class T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
// Round to nearest, ties to even; NaN becomes 0x7FFF: the rule bfloat16::from_float
// reproduces on the host (engine/dtype.h).
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// Accurate forms (expf/erff, not the fast intrinsics): the kernels are memory-bound and
// the fp32 parity bound is 1e-5.
__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
// log(1 + e^z), without overflow.
__device__ __forceinline__ float softplus(float z) { return fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z))); }
// GeLU and its derivative are written over e = erf(x/√2) so that a kernel needing both
// (the scan backward) computes erff once; gelu/gelu_derivative are the same expressions.
__device__ __forceinline__ float gelu_erf(float x) { return erff(x * 0.70710678118654752f); }
__device__ __forceinline__ float gelu_from_erf(float x, float e) { return 0.5f * x * (1.0f + e); }
__device__ __forceinline__ float gelu_derivative_from_erf(float x, float e) {
  const float cdf = 0.5f * (1.0f + e);
  const float pdf = expf(-0.5f * x * x) * 0.39894228040143268f;
  return cdf + x * pdf;
}
__device__ __forceinline__ float gelu(float x) { return gelu_from_erf(x, gelu_erf(x)); }
__device__ __forceinline__ float gelu_derivative(float x) {
  return gelu_derivative_from_erf(x, gelu_erf(x));
}

// VEC consecutive elements of T as floats. VEC · sizeof(T) = 16 uses one 16-byte access
// (the caller guarantees alignment); VEC = 1 is the scalar fallback.
template <class T, int VEC>
struct alignas(sizeof(T) * VEC) Packed {
  T v[VEC];
};

template <class T, int VEC>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[VEC]) {
  const Packed<T, VEC> packed = *reinterpret_cast<const Packed<T, VEC>*>(p);
#pragma unroll
  for (int k = 0; k < VEC; ++k) out[k] = to_float(packed.v[k]);
}

template <class T, int VEC>
__device__ __forceinline__ void store_vec(T* p, const float (&in)[VEC]) {
  Packed<T, VEC> packed;
#pragma unroll
  for (int k = 0; k < VEC; ++k) packed.v[k] = from_float<T>(in[k]);
  *reinterpret_cast<Packed<T, VEC>*>(p) = packed;
}

// The same VEC consecutive elements with one 16-byte access when `vector` (the caller
// guarantees alignment) or VEC scalar accesses otherwise: the values, and so the results
// of whoever uses them, do not depend on the path (a runtime flag, uniform over a launch).
template <class T, int VEC>
__device__ __forceinline__ void load_group(const T* p, bool vector, float (&out)[VEC]) {
  if (vector) {
    load_vec<T, VEC>(p, out);
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) out[k] = to_float(p[k]);
  }
}

template <class T, int VEC>
__device__ __forceinline__ void store_group(T* p, bool vector, const float (&in)[VEC]) {
  if (vector) {
    store_vec<T, VEC>(p, in);
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) p[k] = from_float<T>(in[k]);
  }
}

// Sum over a block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `scratch` holds 32 values; the function synchronizes before reusing it.
template <class V>
__device__ __forceinline__ V block_sum(V value, V* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_xor_sync(0xffffffffu, value, offset);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  V total = lane < warps ? scratch[lane] : V(0);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) total += __shfl_xor_sync(0xffffffffu, total, offset);
  return total;
}

template <class V>
__device__ __forceinline__ V block_max(V value, V* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  __syncthreads();
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  V total = lane < warps ? scratch[lane] : V(-INFINITY);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) total = fmaxf(total, __shfl_xor_sync(0xffffffffu, total, offset));
  return total;
}

// Launch-error check shared by the launchers (the status goes through BIRDIE_CUDA_CHECK).
}  // namespace birdie::kernels::cuda
