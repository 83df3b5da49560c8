// CUDA rotary embedding: a thread per (batch row, token, channel pair d < Dh/2) computes
// the angle once, in f64 from the token's position in its segment (f32 angles lose
// ~1e-4 rad at positions of a few thousand: above the fp32 parity bound), then rotates
// that pair in every head in f32. Segment starts are the
// batch's precomputed bounds (kernels/segments.h).
#include <algorithm>
#include <cmath>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/rotary.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;
constexpr std::int64_t max_blocks = 65535;

template <class T>
__global__ void __launch_bounds__(threads)
rotary_kernel(const T* x, const std::int32_t* __restrict__ start, double log_base, int sign,
              std::int64_t B, std::int64_t T_len, std::int64_t H, std::int64_t Dh, T* y) {
  // x and y may alias (in place): no __restrict__ on them; each pair is read before written.
  const std::int64_t half = Dh / 2, pairs = B * T_len * half;
  for (std::int64_t n = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < pairs;
       n += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t d = n % half, bt = n / half, t = bt % T_len;
    const double position = static_cast<double>(t - start[bt]);
    // base^(−2d/Dh) = exp(−2d/Dh · ln base).
    const double angle = sign * position * exp(-2.0 * static_cast<double>(d) / static_cast<double>(Dh) * log_base);
    double s, c;
    sincos(angle, &s, &c);
    const float sf = static_cast<float>(s), cf = static_cast<float>(c);
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t at = (bt * H + h) * Dh + d;
      const float x1 = to_float(x[at]), x2 = to_float(x[at + half]);
      y[at] = from_float<T>(x1 * cf - x2 * sf);
      y[at + half] = from_float<T>(x2 * cf + x1 * sf);
    }
  }
}

}  // namespace

void rotary(DType dtype, const void* x, const std::int32_t* start, double base, int sign,
            std::int64_t B, std::int64_t T, std::int64_t H, std::int64_t Dh, void* y,
            cudaStream_t stream) {
  const std::int64_t pairs = B * T * (Dh / 2);
  if (pairs == 0 || H == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min((pairs + threads - 1) / threads, max_blocks));
  const auto run = [&](auto zero) {
    using E = decltype(zero);
    rotary_kernel<E><<<blocks, threads, 0, stream>>>(static_cast<const E*>(x), start, std::log(base), sign,
                                                     B, T, H, Dh, static_cast<E*>(y));
  };
  dispatch_f32_bf16(dtype, "rotary", "x", run);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
