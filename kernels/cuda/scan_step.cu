// CUDA recurrent-generation scan (see kernels/cuda/scan_step.h; semantics in
// kernels/scan_step.h). One thread per (batch row, channel), adjacent threads on adjacent
// channels so every gate load is coalesced. Math in f32, the state f32 for either proj
// dtype; the formulas are those of the CPU reference, kernels/cpu/scan_step.cpp.
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/scan_step.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int block_threads = 256;

// Channels [0, forward) carry state; a bidirectional scan's reverse half does not.
template <class T>
__global__ void __launch_bounds__(block_threads)
final_state_kernel(const T* __restrict__ proj, const std::int32_t* __restrict__ reset,
                   std::int64_t B, std::int64_t steps, std::int64_t N, std::int64_t forward,
                   float* __restrict__ state) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * N) return;
  const std::int64_t b = index / N, c = index % N;
  float h = 0.0f;
  if (c < forward) {
    for (std::int64_t t = 0; t < steps; ++t) {
      const T* p = proj + (b * steps + t) * 4 * N + c;
      const bool start = (reset[b * steps + t] & 1) != 0;  // segment start: no state flows in
      h = (start ? 0.0f : sigmoid(to_float(p[N])) * h) + sigmoid(to_float(p[0])) * to_float(p[2 * N]);
    }
  }
  state[index] = h;
}

template <class T>
__global__ void __launch_bounds__(block_threads)
step_kernel(const T* __restrict__ proj, std::int64_t B, std::int64_t N, std::int64_t forward,
            float* __restrict__ state, T* __restrict__ y) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * N) return;
  const std::int64_t b = index / N, c = index % N;
  const T* p = proj + b * 4 * N + c;
  const float drive = sigmoid(to_float(p[0])) * to_float(p[2 * N]);
  float h = drive;
  if (c < forward) {
    h = sigmoid(to_float(p[N])) * state[index] + drive;
    state[index] = h;
  }
  y[index] = from_float<T>(gelu(to_float(p[3 * N])) * h);
}

}  // namespace

void gated_scan_final_state(DType dtype, const void* proj, const std::int32_t* reset,
                            bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                            float* state, cudaStream_t stream) {
  dispatch_f32_bf16(dtype, "gated_scan_final_state", "proj", [&](auto zero) {
    using Element = decltype(zero);
    if (B * N == 0) return;
    final_state_kernel<Element><<<block_count(B * N, block_threads), block_threads, 0, stream>>>(
        static_cast<const Element*>(proj), reset, B, T, N, forward_channels(bidirectional, N), state);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

void gated_scan_step(DType dtype, const void* proj, bool bidirectional, std::int64_t B,
                     std::int64_t N, float* state, void* y, cudaStream_t stream) {
  dispatch_f32_bf16(dtype, "gated_scan_step", "proj", [&](auto zero) {
    using Element = decltype(zero);
    if (B * N == 0) return;
    step_kernel<Element><<<block_count(B * N, block_threads), block_threads, 0, stream>>>(
        static_cast<const Element*>(proj), B, N, forward_channels(bidirectional, N), state,
        static_cast<Element*>(y));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace birdie::kernels::cuda
