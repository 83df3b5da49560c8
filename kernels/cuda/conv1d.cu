// CUDA causal convolution with resets (kernels/cuda/conv1d.h for the layout of the work,
// kernels/conv1d.h for the semantics; kernels/cpu/conv1d.cpp is the reference).
#include <algorithm>
#include <string>

#include "engine/cuda_runtime.h"
#include "engine/error.h"
#include "kernels/cuda/conv1d.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int block_threads = 256;

struct ConvShape {
  std::int64_t B, T, C, K;
  bool bidirectional;
};

__device__ __forceinline__ bool look_ahead(const ConvShape& s, std::int64_t c) {
  return s.bidirectional && c >= s.C / 2;
}

// The position term k of output t reads, or -1 when the term is dropped (kernels/conv1d.h):
// the source must be in t's segment (no segment start in (s, t] going back, in (t, s] going
// ahead), and a look-ahead term with k > 0 must join two prompt positions.
__device__ __forceinline__ std::int64_t source(const std::int32_t* r, const ConvShape& s, std::int64_t t,
                                               std::int64_t k, bool ahead) {
  if (!ahead) {
    if (t - k < 0) return -1;
    for (std::int64_t j = t - k + 1; j <= t; ++j)
      if (r[j] & 1) return -1;
    return t - k;
  }
  if (k == 0) return t;
  if (t + k >= s.T || (r[t] & 2) || (r[t + k] & 2)) return -1;
  for (std::int64_t j = t + 1; j <= t + k; ++j)
    if (r[j] & 1) return -1;
  return t + k;
}

template <class T>
__global__ void __launch_bounds__(block_threads)
conv_forward(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
             const std::int32_t* __restrict__ reset, ConvShape s, T* __restrict__ y) {
  const std::int64_t total = s.B * s.T * s.C;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = e % s.C, row = e / s.C, b = row / s.T, t = row % s.T;
    const std::int32_t* r = reset + b * s.T;
    const bool ahead = look_ahead(s, c);
    float acc = to_float(bias[c]);
    for (std::int64_t k = 0; k < s.K; ++k) {
      const std::int64_t src = source(r, s, t, k, ahead);
      if (src >= 0) acc += to_float(w[k * s.C + c]) * to_float(x[(b * s.T + src) * s.C + c]);
    }
    y[e] = from_float<T>(acc);
  }
}

// dx_p = Σ over the terms (t, k) that read p of w[k] · dy_t: t = p + k going back (p - k
// looking ahead), kept by the same rule as the forward pass.
template <class T>
__global__ void __launch_bounds__(block_threads)
conv_backward_input(const T* __restrict__ w, const std::int32_t* __restrict__ reset, ConvShape s,
                    const T* __restrict__ dy, T* __restrict__ dx) {
  const std::int64_t total = s.B * s.T * s.C;
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = e % s.C, row = e / s.C, b = row / s.T, p = row % s.T;
    const std::int32_t* r = reset + b * s.T;
    const bool ahead = look_ahead(s, c);
    float acc = 0.0f;
    for (std::int64_t k = 0; k < s.K; ++k) {
      const std::int64_t t = ahead ? p - k : p + k;
      if (t < 0 || t >= s.T || source(r, s, t, k, ahead) != p) continue;
      acc += to_float(w[k * s.C + c]) * to_float(dy[(b * s.T + t) * s.C + c]);
    }
    dx[e] = from_float<T>(acc);
  }
}

// partial[(chunk · (K + 1) + k) · C + c] = Σ over the chunk's rows of dy_t · x_source(t, k)
// (k < K) or of dy_t (k = K, the bias), each k summed in row order. blockIdx.x is the chunk
// of rows, blockIdx.y · blockDim.x + threadIdx.x the channel. One pass over the rows: each
// row's dy and x are read once, the K window terms come from registers (the last K inputs
// going back, the next K looking ahead), and which terms a row keeps is carried from row to
// row instead of rescanning the reset bits per term. KMAX ≥ K bounds the register window.
template <class T, int KMAX>
__global__ void __launch_bounds__(block_threads)
conv_backward_partials(const T* __restrict__ x, const std::int32_t* __restrict__ reset, ConvShape s,
                       const T* __restrict__ dy, float* __restrict__ partial) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.y) * blockDim.x + threadIdx.x;
  if (c >= s.C) return;
  const bool ahead = look_ahead(s, c);
  const std::int64_t chunk = blockIdx.x;
  const std::int64_t row0 = chunk * conv1d_rows_per_partial;
  const std::int64_t row1 = min(row0 + conv1d_rows_per_partial, s.B * s.T);
  const int K = static_cast<int>(s.K);
  float acc[KMAX + 1];
#pragma unroll
  for (int k = 0; k <= KMAX; ++k) acc[k] = 0.0f;
  // window[k]: x at t - k going back, t + k looking ahead (0 where the position is outside
  // the row). Going back, `reach` is how far back t's segment goes (t minus its start).
  float window[KMAX];
  std::int64_t reach = 0;
  for (std::int64_t row = row0; row < row1; ++row) {
    const std::int64_t t = row % s.T, base = row - t;
    const std::int32_t* r = reset + (row / s.T) * s.T;
    if (!ahead) {
      if (row == row0 || t == 0) {  // the window and the reach from memory
        reach = 0;
        for (std::int64_t j = t; j > 0 && !(r[j] & 1) && reach < K - 1; --j) ++reach;
#pragma unroll
        for (int k = 0; k < KMAX; ++k)
          window[k] = k < K && t - k >= 0 ? to_float(x[(base + t - k) * s.C + c]) : 0.0f;
      } else {  // shifted by one row
#pragma unroll
        for (int k = KMAX - 1; k > 0; --k) window[k] = window[k - 1];
        window[0] = to_float(x[row * s.C + c]);
        reach = (r[t] & 1) ? 0 : reach + 1;
      }
    } else {
      if (row == row0 || t == 0) {
#pragma unroll
        for (int k = 0; k < KMAX; ++k)
          window[k] = k < K && t + k < s.T ? to_float(x[(base + t + k) * s.C + c]) : 0.0f;
      } else {  // shifted by one row, x at t + K - 1 coming in
        const float incoming = t + K - 1 < s.T ? to_float(x[(row + K - 1) * s.C + c]) : 0.0f;
#pragma unroll
        for (int k = 0; k < KMAX; ++k)
          window[k] = k + 1 < K ? window[k + 1 < KMAX ? k + 1 : k] : k + 1 == K ? incoming : 0.0f;
      }
    }
    const float g = to_float(dy[row * s.C + c]);
    acc[KMAX] += g;
    bool blocked = false;  // looking ahead: a segment start in (t, t + k], or a causal end
#pragma unroll
    for (int k = 0; k < KMAX; ++k) {
      if (k >= K) break;
      bool keep;
      if (!ahead) {
        keep = k <= reach;
      } else if (k == 0) {
        keep = true;
      } else {
        blocked = blocked || t + k >= s.T || (r[t + k] & 1);
        keep = !blocked && !(r[t] & 2) && !(r[t + k] & 2);
      }
      if (keep) acc[k] += g * window[k];
    }
  }
  for (int k = 0; k < K; ++k) partial[(chunk * (s.K + 1) + k) * s.C + c] = acc[k];
  partial[(chunk * (s.K + 1) + s.K) * s.C + c] = acc[KMAX];
}

// dweight[k, c] (k < K) and dbias[c] (k = K) += the chunks' partial sums, in chunk order.
template <class W>
__global__ void conv_backward_parameters(const float* __restrict__ partial, std::int64_t chunks,
                                         std::int64_t K, std::int64_t C, W* __restrict__ dweight,
                                         W* __restrict__ dbias) {
  const std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= (K + 1) * C) return;
  const std::int64_t k = e / C, c = e % C;
  float sum = 0.0f;
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) sum += partial[(chunk * (K + 1) + k) * C + c];
  W* out = k == K ? dbias + c : dweight + k * C + c;
  *out = from_float<W>(to_float(*out) + sum);
}

unsigned elementwise_blocks(std::int64_t total) {
  return static_cast<unsigned>(std::min<std::int64_t>((total + block_threads - 1) / block_threads, 65535 * 8));
}

}  // namespace

void causal_conv1d_forward(DType dtype, const void* x, const void* weight, const void* bias,
                           const std::int32_t* reset, bool bidirectional, std::int64_t B,
                           std::int64_t T, std::int64_t C, std::int64_t K, void* y,
                           cudaStream_t stream) {
  const ConvShape s{B, T, C, K, bidirectional};
  if (B * T * C == 0) return;
  dispatch_f32_bf16(dtype, "causal_conv1d_forward", "x", [&](auto zero) {
    using E = decltype(zero);
    conv_forward<E><<<elementwise_blocks(B * T * C), block_threads, 0, stream>>>(
        static_cast<const E*>(x), static_cast<const E*>(weight), static_cast<const E*>(bias), reset, s,
        static_cast<E*>(y));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

void causal_conv1d_backward(DType dtype, DType dweight_dtype, const void* x, const void* weight,
                            const std::int32_t* reset, bool bidirectional, std::int64_t B,
                            std::int64_t T, std::int64_t C, std::int64_t K, const void* dy,
                            void* dx, void* dweight, void* dbias, float* scratch,
                            cudaStream_t stream) {
  const ConvShape s{B, T, C, K, bidirectional};
  if (B * T * C == 0) return;
  const std::int64_t chunks = (B * T + conv1d_rows_per_partial - 1) / conv1d_rows_per_partial;
  BIRDIE_CHECK(K <= conv1d_max_width, "causal_conv1d_backward (CUDA): width ", K, " above ",
               conv1d_max_width, " (the weight gradient keeps the window in registers)");
  BIRDIE_CHECK(chunks <= INT32_MAX && (C + block_threads - 1) / block_threads <= 65535,
               "causal_conv1d_backward (CUDA): ", B * T, " rows of ", C,
               " channels exceed the grid of the weight-gradient pass");
  dispatch_f32_bf16(dtype, "causal_conv1d_backward", "x", [&](auto zero) {
    using E = decltype(zero);
    conv_backward_input<E><<<elementwise_blocks(B * T * C), block_threads, 0, stream>>>(
        static_cast<const E*>(weight), reset, s, static_cast<const E*>(dy), static_cast<E*>(dx));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>((C + block_threads - 1) / block_threads));
    const auto partials = [&](auto kernel) {
      kernel<<<grid, block_threads, 0, stream>>>(static_cast<const E*>(x), reset, s, static_cast<const E*>(dy),
                                                 scratch);
    };
    if (K <= 4)
      partials(conv_backward_partials<E, 4>);
    else
      partials(conv_backward_partials<E, conv1d_max_width>);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
  const unsigned blocks = static_cast<unsigned>(((K + 1) * C + block_threads - 1) / block_threads);
  auto add_parameters = [&](auto zero) {
    using W = decltype(zero);
    conv_backward_parameters<W><<<blocks, block_threads, 0, stream>>>(scratch, chunks, K, C, static_cast<W*>(dweight),
                                                                      static_cast<W*>(dbias));
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  };
  dispatch_f32_bf16(dweight_dtype, "causal_conv1d_backward", "dweight", add_parameters);
}

}  // namespace birdie::kernels::cuda
