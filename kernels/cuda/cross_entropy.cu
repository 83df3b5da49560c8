// CUDA fused softmax cross-entropy: no softmax tensor, one block per row, no host
// synchronization.
//
// The usual path reads each logit once: a thread keeps its share of the row in registers
// (up to 64 values: 16-byte vectors, or scalars when rows are not 16-byte aligned), the
// block reduces the max and then Σ exp(x − max), and the gradient is written from the
// registers (V ≤ 32768 in f32, 32768 in bf16 with 512 threads; 8192 unaligned). Longer
// rows fall back to the two-pass kernel:
// an online max/sum pass, then a pass writing the gradient (the row is re-read, mostly
// from L2).
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device_math.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 512;
constexpr int max_items = 16;

// An ignored row (target −1) has loss 0 and gradient 0. A target outside the vocabulary
// cannot be reported without waiting for the device: its row gets NaN loss and gradient,
// which the step's non-finite check then catches (callers validate targets on the host).
__device__ __forceinline__ bool ignored(std::int32_t target) { return target == -1; }
__device__ __forceinline__ bool invalid(std::int32_t target, std::int64_t V) {
  return target != -1 && (target < 0 || target >= V);
}

template <class T, class S>
__device__ void write_uncounted_row(std::int32_t target, S* row_loss, T* d, std::int64_t V) {
  const float value = ignored(target) ? 0.0f : __int_as_float(0x7fc00000);
  if (threadIdx.x == 0) *row_loss = from_float<S>(value);
  if (d)
    for (std::int64_t j = threadIdx.x; j < V; j += blockDim.x) d[j] = from_float<T>(value);
}

// One read of the logits: thread t holds vectors t, t + blockDim, … (ITEMS of them).
template <class T, class S, int VEC, int ITEMS>
__global__ void __launch_bounds__(threads)
cross_entropy_registers_kernel(const T* __restrict__ logits, const std::int32_t* __restrict__ targets,
                               std::int64_t V, float grad_scale, S* __restrict__ row_loss,
                               T* __restrict__ dlogits) {
  __shared__ float scratch[32];
  const std::int64_t row = blockIdx.x;
  const T* l = logits + row * V;
  T* d = dlogits ? dlogits + row * V : nullptr;
  const std::int32_t target = targets[row];
  if (ignored(target) || invalid(target, V)) return write_uncounted_row(target, row_loss + row, d, V);

  float v[ITEMS][VEC];
  float m = -INFINITY;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k) {
    const std::int64_t j = (static_cast<std::int64_t>(k) * blockDim.x + threadIdx.x) * VEC;
    if (j < V) {
      load_vec<T, VEC>(l + j, v[k]);
    } else {
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[k][e] = -INFINITY;
    }
#pragma unroll
    for (int e = 0; e < VEC; ++e) m = fmaxf(m, v[k][e]);
  }
  m = block_max(m, scratch);
  float s = 0.0f;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k)
#pragma unroll
    for (int e = 0; e < VEC; ++e) {
      v[k][e] = expf(v[k][e] - m);  // exp(−inf) = 0 for padding and −inf logits
      s += v[k][e];
    }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) row_loss[row] = from_float<S>(logf(s) + m - to_float(l[target]));
  if (!d) return;
  const float scale = grad_scale / s;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k) {
    const std::int64_t j = (static_cast<std::int64_t>(k) * blockDim.x + threadIdx.x) * VEC;
    if (j >= V) continue;
    float g[VEC];
#pragma unroll
    for (int e = 0; e < VEC; ++e) g[e] = v[k][e] * scale - (j + e == target ? grad_scale : 0.0f);
    store_vec<T, VEC>(d + j, g);
  }
}

// Merges two (max, Σ exp(x − max)) pairs.
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
  if (m2 == -INFINITY) return;
  if (m == -INFINITY) { m = m2; s = s2; return; }
  const float mx = fmaxf(m, m2);
  s = s * expf(m - mx) + s2 * expf(m2 - mx);
  m = mx;
}

// Any row length: an online (max, sum) pass, then the gradient pass.
template <class T, class S>
__global__ void __launch_bounds__(threads)
cross_entropy_two_pass_kernel(const T* __restrict__ logits, const std::int32_t* __restrict__ targets,
                              std::int64_t V, float grad_scale, S* __restrict__ row_loss,
                              T* __restrict__ dlogits) {
  __shared__ float scratch_m[32], scratch_s[32];
  const std::int64_t row = blockIdx.x;
  const T* l = logits + row * V;
  T* d = dlogits ? dlogits + row * V : nullptr;
  const std::int32_t target = targets[row];
  if (ignored(target) || invalid(target, V)) return write_uncounted_row(target, row_loss + row, d, V);
  float m = -INFINITY, s = 0.0f;
  for (std::int64_t j = threadIdx.x; j < V; j += blockDim.x) {
    const float v = to_float(l[j]);
    if (v > m) {
      s = (m == -INFINITY ? 0.0f : s * expf(m - v)) + 1.0f;
      m = v;
    } else if (v != -INFINITY) {
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

// At most 64 floats of the row per thread (ITEMS · VEC), so the kernel does not spill at
// 512 threads (128 registers each).
template <class T, class S, int VEC>
bool launch_registers(const T* logits, const std::int32_t* targets, std::int64_t rows, std::int64_t V,
                      float grad_scale, S* row_loss, T* dlogits, cudaStream_t stream) {
  constexpr int most_items = std::min(max_items, 64 / VEC);
  const std::int64_t vectors_per_thread = (V + std::int64_t{VEC} * threads - 1) / (std::int64_t{VEC} * threads);
  bool launched = false;
  const auto try_items = [&](auto items) {
    constexpr int ITEMS = decltype(items)::value;
    if constexpr (ITEMS <= most_items) {
      if (launched || vectors_per_thread > ITEMS) return;
      cross_entropy_registers_kernel<T, S, VEC, ITEMS>
          <<<static_cast<unsigned>(rows), threads, 0, stream>>>(logits, targets, V, grad_scale, row_loss, dlogits);
      launched = true;
    }
  };
  try_items(std::integral_constant<int, 1>{});
  try_items(std::integral_constant<int, 2>{});
  try_items(std::integral_constant<int, 4>{});
  try_items(std::integral_constant<int, 8>{});
  try_items(std::integral_constant<int, 16>{});
  return launched;
}

template <class T, class S>
void launch(const void* logits, const std::int32_t* targets, std::int64_t rows, std::int64_t V,
            double grad_scale, void* row_loss, void* dlogits, cudaStream_t stream) {
  const T* l = static_cast<const T*>(logits);
  T* d = static_cast<T*>(dlogits);
  S* loss = static_cast<S*>(row_loss);
  const float scale = static_cast<float>(grad_scale);
  constexpr int vec = 16 / sizeof(T);
  // Every row starts on a 16-byte boundary when V is a multiple of the vector and both
  // buffers do.
  const bool aligned = V % vec == 0 && reinterpret_cast<std::uintptr_t>(l) % 16 == 0 &&
                       reinterpret_cast<std::uintptr_t>(d) % 16 == 0;
  if (aligned && launch_registers<T, S, vec>(l, targets, rows, V, scale, loss, d, stream)) return;
  if (!aligned && launch_registers<T, S, 1>(l, targets, rows, V, scale, loss, d, stream)) return;
  cross_entropy_two_pass_kernel<T, S><<<static_cast<unsigned>(rows), threads, 0, stream>>>(
      l, targets, V, scale, loss, d);
}

}  // namespace

void cross_entropy_forward_backward(DType dtype, DType loss_dtype, const void* logits,
                                    const std::int32_t* targets, std::int64_t rows, std::int64_t V,
                                    double grad_scale, void* row_loss, void* dlogits,
                                    cudaStream_t stream) {
  if (rows == 0) return;
  BIRDIE_CHECK(rows <= INT32_MAX, "cross_entropy (CUDA): ", rows, " rows, at most 2^31 - 1 per call");
  if (dtype == DType::f32 && loss_dtype == DType::f32)
    launch<float, float>(logits, targets, rows, V, grad_scale, row_loss, dlogits, stream);
  else if (dtype == DType::bf16 && loss_dtype == DType::f32)
    launch<__nv_bfloat16, float>(logits, targets, rows, V, grad_scale, row_loss, dlogits, stream);
  else if (dtype == DType::bf16 && loss_dtype == DType::bf16)
    launch<__nv_bfloat16, __nv_bfloat16>(logits, targets, rows, V, grad_scale, row_loss, dlogits, stream);
  else
    throw Error(detail::concat("cross_entropy (CUDA): logits ", dtype_name(dtype), " with row loss ",
                               dtype_name(loss_dtype), " is not supported (f32/f32, bf16/f32, bf16/bf16)"));
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
