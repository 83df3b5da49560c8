// What the RG-LRU's CUDA scans share (rglru.cu: three passes; rglru_one_pass.cu: the
// gated scan's split tiles): the reset rule, the decay and its root, Λ's terms and the sum
// of Λ's gradient shares.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan_common.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr float rglru_c = 8.0f;  // kernels::rglru_c

// In a ScanShape here N counts the RG-LRU's channels and C the chunks.

// a_t forced to 0 where no state may flow in (kernels/rglru.h): the gated scan's rule, and
// t = 0 going forward.
__device__ __forceinline__ bool rglru_blocked(const std::int32_t* reset_row, const ScanShape& s,
                                              bool reverse, std::int64_t t) {
  return blocked(reset_row, s, reverse, t) || (!reverse && t == 0);
}

// a, sqrt(1 − a²) (from expm1, accurate as a → 1) and d sqrt(1 − a²) / d log a of one element.
struct Decay {
  float a, scale;
  __device__ __forceinline__ Decay(bool is_blocked, float r, float softplus_neg_lambda) {
    if (is_blocked) {
      a = 0.0f, scale = 1.0f;
      return;
    }
    const float log_a = -rglru_c * r * softplus_neg_lambda;
    a = expf(log_a);
    scale = sqrtf(-expm1f(2.0f * log_a));
  }
  __device__ __forceinline__ float dscale_dlog_a() const { return scale > 0.0f ? -a * a / scale : 0.0f; }
};

// softplus(−Λ) (and σ(−Λ), its derivative's magnitude) for the thread's channels.
template <int VEC>
__device__ __forceinline__ void lambda_terms(const float* lambda, std::int64_t c0, float (&sp)[VEC],
                                             float (&sn)[VEC]) {
#pragma unroll
  for (int k = 0; k < VEC; ++k) {
    const float l = lambda[c0 + k];
    sp[k] = softplus(-l);
    sn[k] = sigmoid(-l);
  }
}

// The RG-LRU's inputs (kernels/rglru.h), x [B, T, N], gates [B, T, 2N] and the optional
// output gate o [B, T, N]: where plane q of a token row starts, q = 0 for x, 1 for r, 2 for
// i, 3 for o.
template <class T>
struct RglruInputs {
  const T* x;
  const T* gates;
  const T* out_gate;
  std::int64_t N;
  __device__ __forceinline__ const T* operator()(int q, std::int64_t row) const {
    return q == 0 ? x + row * N : q == 3 ? out_gate + row * N : gates + (2 * row + q - 1) * N;
  }
};

// The backward's outputs, laid out like the inputs: dx [B, T, N], dgates [B, T, 2N], do
// [B, T, N].
template <class T>
struct RglruGrads {
  T* dx;
  T* dgates;
  T* dout_gate;
  std::int64_t N;
  template <int VEC>
  __device__ __forceinline__ void store(std::int64_t row, std::int64_t c0, const float (&dxv)[VEC],
                                        const float (&dr)[VEC], const float (&di)[VEC]) const {
    store_vec<T, VEC>(dx + row * N + c0, dxv);
    store_vec<T, VEC>(dgates + 2 * row * N + c0, dr);
    store_vec<T, VEC>(dgates + (2 * row + 1) * N + c0, di);
  }
  template <int VEC>
  __device__ __forceinline__ void store_out_gate(std::int64_t row, std::int64_t c0, const float (&dov)[VEC]) const {
    store_vec<T, VEC>(dout_gate + row * N + c0, dov);
  }
};

// Hawk's output gate at one element: y = GeLU(o)·h. Its factor GeLU(o) and its gradient
// dy·GeLU′(o)·h, from one erff.
struct OutputGate {
  float factor, derivative;
  __device__ __forceinline__ explicit OutputGate(float o) {
    const float e = gelu_erf(o);
    factor = gelu_from_erf(o, e);
    derivative = gelu_derivative_from_erf(o, e);
  }
};

}  // namespace

// fn(std::bool_constant<gated>{}): a launcher's kernels instantiated with and without the
// output gate.
template <class Fn>
void with_output_gate(bool gated, Fn&& fn) {
  if (gated) fn(std::true_type{});
  else fn(std::false_type{});
}

// dlambda[c] += Σ over the rows of lambda_part [rows, N] (the passes' shares of Λ's
// gradient: per (batch row, chunk) or per (batch row, tile)), in row order: deterministic,
// no atomics. Defined in rglru.cu.
void launch_rglru_lambda_sum(const float* lambda_part, std::int64_t rows, std::int64_t N, float* dlambda,
                             cudaStream_t stream);

}  // namespace birdie::kernels::cuda
