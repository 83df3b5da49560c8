// CUDA AdamW over one flat f32 buffer (fp32 master weights and moments, f64 arithmetic
// per element like the CPU reference), with an optional bf16 compute copy. The step's
// decision (skip a non-finite step, the clip factor, the step count of the bias
// correction) is made on the device by adamw_decide_kernel and read by the update from
// the status buffer: the host never reads the gradient norm to queue a step.
#include <algorithm>

#include <cuda_bf16.h>

#include "engine/cuda_runtime.h"
#include "kernels/adamw_status.h"
#include "kernels/cuda/adamw.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;

__global__ void adamw_decide_kernel(double* status, double beta1, double beta2, double clip_norm) {
  adamw_status::decide(status, beta1, beta2, clip_norm);
}

__global__ void adamw_kernel(float* __restrict__ p, const float* __restrict__ g,
                             float* __restrict__ m, float* __restrict__ v, std::int64_t n,
                             const std::int64_t* __restrict__ starts,
                             const std::uint8_t* __restrict__ decay, int segments,
                             AdamWScalars h, const double* __restrict__ status,
                             __nv_bfloat16* __restrict__ compute_copy) {
  // A skipped step (non-finite gradient or loss) writes nothing, as if it had not been queued.
  if (status[adamw_status::skipped] != 0.0) return;
  const double grad_scale = status[adamw_status::grad_scale];
  const double correction1 = status[adamw_status::correction1];
  const double correction2 = status[adamw_status::correction2];
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    // The segment holding i: the last start ≤ i (binary search).
    int lo = 0, hi = segments - 1;
    while (lo < hi) {
      const int mid = (lo + hi + 1) / 2;
      if (starts[mid] <= i) lo = mid; else hi = mid - 1;
    }
    const double decay_factor = decay[lo] ? 1.0 - h.lr * h.weight_decay : 1.0;
    const double gi = double(g[i]) * grad_scale;
    const double mi = h.beta1 * m[i] + (1.0 - h.beta1) * gi;
    const double vi = h.beta2 * v[i] + (1.0 - h.beta2) * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    const double update = (mi / correction1) / (sqrt(vi / correction2) + h.eps);
    const float updated = static_cast<float>(static_cast<float>(p[i] * static_cast<float>(decay_factor)) - h.lr * update);
    p[i] = updated;
    if (compute_copy) compute_copy[i] = __float2bfloat16_rn(updated);
  }
}

}  // namespace

void adamw_step(float* params, const float* grads, float* m, float* v, std::int64_t n,
                const std::int64_t* segment_starts, const std::uint8_t* segment_decay,
                int segments, const AdamWScalars& scalars, const double* status, void* compute_copy,
                cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::clamp<std::int64_t>((n + threads - 1) / threads, 1, 65536));
  adamw_kernel<<<blocks, threads, 0, stream>>>(params, grads, m, v, n, segment_starts, segment_decay,
                                              segments, scalars, status, static_cast<__nv_bfloat16*>(compute_copy));
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void adamw_decide(double* status, double beta1, double beta2, double clip_norm, cudaStream_t stream) {
  adamw_decide_kernel<<<1, 1, 0, stream>>>(status, beta1, beta2, clip_norm);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
