// CUDA one-token Hawk kernels (see kernels/cuda/rglru_step.h; semantics in
// kernels/rglru_step.h). One thread per (batch row, channel), adjacent threads on adjacent
// channels. Math in f32, the RG-LRU state f32 for either dtype; the formulas are those of
// the full scan (kernels/cuda/rglru.cu) and of the CPU reference, kernels/cpu/rglru_step.cpp.
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/rglru_step.h"
#include "kernels/rglru.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int block_threads = 256;

// h ← a·h + sqrt(1 − a²)·σ(i)·x with a = σ(Λ)^(c·σ(r)).
__device__ __forceinline__ float rglru_update(float h, float x, float r_pre, float i_pre, float lambda) {
  const float log_a = -static_cast<float>(rglru_c) * sigmoid(r_pre) * softplus(-lambda);
  return expf(log_a) * h + sqrtf(-expm1f(2.0f * log_a)) * sigmoid(i_pre) * x;
}

template <class T>
__global__ void __launch_bounds__(block_threads)
final_state_kernel(const T* __restrict__ x, const T* __restrict__ gates, const float* __restrict__ lambda,
                   const std::int32_t* __restrict__ reset, std::int64_t B, std::int64_t steps, std::int64_t C,
                   std::int64_t forward, float* __restrict__ state) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * C) return;
  const std::int64_t b = index / C, c = index % C;
  float h = 0.0f;
  if (c < forward) {
    const float l = lambda[c];
    for (std::int64_t t = 0; t < steps; ++t) {
      const std::int64_t row = b * steps + t;
      const bool start = t == 0 || (reset[row] & 1) != 0;  // segment start: a = 0
      const float xv = to_float(x[row * C + c]), r = to_float(gates[2 * row * C + c]),
                  i = to_float(gates[(2 * row + 1) * C + c]);
      h = start ? sigmoid(i) * xv : rglru_update(h, xv, r, i, l);
    }
  }
  state[index] = h;
}

template <class T>
__global__ void __launch_bounds__(block_threads)
step_kernel(const T* __restrict__ x, const T* __restrict__ gates, const float* __restrict__ lambda, std::int64_t B,
            std::int64_t C, std::int64_t forward, float* __restrict__ state, T* __restrict__ y) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * C) return;
  const std::int64_t b = index / C, c = index % C;
  const float xv = to_float(x[index]), r = to_float(gates[2 * b * C + c]), i = to_float(gates[(2 * b + 1) * C + c]);
  float h;
  if (c < forward) {
    h = rglru_update(state[index], xv, r, i, lambda[c]);
    state[index] = h;
  } else {
    h = sigmoid(i) * xv;  // reverse half: a = 0 on a suffix token
  }
  y[index] = from_float<T>(h);
}

template <class T>
__global__ void __launch_bounds__(block_threads)
conv_step_kernel(const T* __restrict__ x, const T* __restrict__ weight, const T* __restrict__ bias,
                 std::int64_t B, std::int64_t C, std::int64_t K, std::int64_t forward, T* __restrict__ window,
                 T* __restrict__ y) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * C) return;
  const std::int64_t b = index / C, c = index % C;
  T* win = window + b * (K - 1) * C + c;
  const T xc = x[index];
  float acc = to_float(bias[c]) + to_float(weight[c]) * to_float(xc);
  if (c < forward)
    for (std::int64_t k = 1; k < K; ++k) acc += to_float(weight[k * C + c]) * to_float(win[(K - 1 - k) * C]);
  y[index] = from_float<T>(acc);
  for (std::int64_t j = 0; j + 1 < K - 1; ++j) win[j * C] = win[(j + 1) * C];
  if (K > 1) win[(K - 2) * C] = xc;
}

}  // namespace

void rglru_final_state(DType dtype, const void* x, const void* gates, const float* lambda,
                       const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t C,
                       float* state, cudaStream_t stream) {
  dispatch_f32_bf16(dtype, "rglru_final_state", "the operands", [&](auto zero) {
    using Element = decltype(zero);
    if (B * C == 0) return;
    final_state_kernel<Element><<<block_count(B * C, block_threads), block_threads, 0, stream>>>(
        static_cast<const Element*>(x), static_cast<const Element*>(gates), lambda, reset, B, T, C,
        forward_channels(bidirectional, C), state);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

void rglru_step(DType dtype, const void* x, const void* gates, const float* lambda, bool bidirectional,
                std::int64_t B, std::int64_t C, float* state, void* y, cudaStream_t stream) {
  dispatch_f32_bf16(dtype, "rglru_step", "the operands", [&](auto zero) {
    using Element = decltype(zero);
    if (B * C == 0) return;
    step_kernel<Element><<<block_count(B * C, block_threads), block_threads, 0, stream>>>(
        static_cast<const Element*>(x), static_cast<const Element*>(gates), lambda, B, C,
        forward_channels(bidirectional, C), state, static_cast<Element*>(y));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

void conv1d_step(DType dtype, const void* x, const void* weight, const void* bias, bool bidirectional,
                 std::int64_t B, std::int64_t C, std::int64_t K, void* window, void* y, cudaStream_t stream) {
  dispatch_f32_bf16(dtype, "conv1d_step", "the operands", [&](auto zero) {
    using Element = decltype(zero);
    if (B * C == 0) return;
    conv_step_kernel<Element><<<block_count(B * C, block_threads), block_threads, 0, stream>>>(
        static_cast<const Element*>(x), static_cast<const Element*>(weight), static_cast<const Element*>(bias), B,
        C, K, forward_channels(bidirectional, C), static_cast<Element*>(window), static_cast<Element*>(y));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace birdie::kernels::cuda
