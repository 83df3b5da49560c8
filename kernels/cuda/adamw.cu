// CUDA AdamW over one flat f32 buffer (fp32 master weights and moments, f64 arithmetic
// per element like the CPU reference), with an optional bf16 compute copy. The step's
// decision (skip a non-finite step, the clip factor, the step count of the bias
// correction) is made on the device by adamw_decide_kernel and read by the update from
// the status buffer: the host never reads the gradient norm to queue a step.
#include <algorithm>
#include <cstdint>

#include <cuda_bf16.h>

#include "engine/cuda_runtime.h"
#include "kernels/adamw_status.h"
#include "kernels/cuda/adamw.h"
#include "kernels/cuda/device_math.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;

__global__ void adamw_decide_kernel(double* status, double beta1, double beta2, double clip_norm) {
  adamw_status::decide(status, beta1, beta2, clip_norm);
}

// The index of the segment holding element i: the last start ≤ i (binary search).
__device__ __forceinline__ int segment_of(const std::int64_t* __restrict__ starts, int segments, std::int64_t i) {
  int lo = 0, hi = segments - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (starts[mid] <= i) lo = mid; else hi = mid - 1;
  }
  return lo;
}

struct StepValues {
  double grad_scale, correction1, correction2;
};

// One element's update in f64, the CPU reference's arithmetic: whichever path reads and
// writes the element (vector or scalar), the results are the same bits.
__device__ __forceinline__ void update(float& p, float g, float& m, float& v, bool decay, const AdamWScalars& h,
                                       const StepValues& s) {
  const double decay_factor = decay ? 1.0 - h.lr * h.weight_decay : 1.0;
  const double gi = double(g) * s.grad_scale;
  const double mi = h.beta1 * m + (1.0 - h.beta1) * gi;
  const double vi = h.beta2 * v + (1.0 - h.beta2) * gi * gi;
  m = static_cast<float>(mi);
  v = static_cast<float>(vi);
  const double step = (mi / s.correction1) / (sqrt(vi / s.correction2) + h.eps);
  p = static_cast<float>(static_cast<float>(p * static_cast<float>(decay_factor)) - h.lr * step);
}

// VEC consecutive elements per thread and iteration: with VEC = 4 one 16-byte access per
// f32 operand and one 8-byte store of the bf16 copy (the launcher checks alignment), the
// segment found once per group. The last n % VEC elements go one per thread after the loop,
// so the whole buffer is one launch.
template <int VEC>
__global__ void adamw_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                             float* __restrict__ v, std::int64_t n, const std::int64_t* __restrict__ starts,
                             const std::uint8_t* __restrict__ decay, int segments, AdamWScalars h,
                             const double* __restrict__ status, __nv_bfloat16* __restrict__ compute_copy) {
  // A skipped step (non-finite gradient or loss) writes nothing, as if it had not been queued.
  if (status[adamw_status::skipped] != 0.0) return;
  const StepValues s{status[adamw_status::grad_scale], status[adamw_status::correction1],
                     status[adamw_status::correction2]};
  const std::int64_t thread = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t whole = n - n % VEC;
  for (std::int64_t i = thread * VEC; i < whole; i += stride * VEC) {
    float pv[VEC], gv[VEC], mv[VEC], vv[VEC];
    load_vec<float, VEC>(p + i, pv);
    load_vec<float, VEC>(g + i, gv);
    load_vec<float, VEC>(m + i, mv);
    load_vec<float, VEC>(v + i, vv);
    int segment = segment_of(starts, segments, i);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      while (segment + 1 < segments && starts[segment + 1] <= i + k) ++segment;
      update(pv[k], gv[k], mv[k], vv[k], decay[segment] != 0, h, s);
    }
    store_vec<float, VEC>(p + i, pv);
    store_vec<float, VEC>(m + i, mv);
    store_vec<float, VEC>(v + i, vv);
    if (compute_copy) store_vec<__nv_bfloat16, VEC>(compute_copy + i, pv);
  }
  if (thread < n - whole) {
    const std::int64_t i = whole + thread;
    update(p[i], g[i], m[i], v[i], decay[segment_of(starts, segments, i)] != 0, h, s);
    if (compute_copy) compute_copy[i] = __float2bfloat16_rn(p[i]);
  }
}

}  // namespace

void adamw_step(float* params, const float* grads, float* m, float* v, std::int64_t n,
                const std::int64_t* segment_starts, const std::uint8_t* segment_decay,
                int segments, const AdamWScalars& scalars, const double* status, void* compute_copy,
                cudaStream_t stream) {
  if (n == 0) return;
  auto* copy = static_cast<__nv_bfloat16*>(compute_copy);
  const bool vector = aligned16(params) && aligned16(grads) && aligned16(m) && aligned16(v) &&
                      reinterpret_cast<std::uintptr_t>(copy) % 8 == 0;
  const std::int64_t vec = vector ? 4 : 1;
  const std::int64_t groups = (n + vec - 1) / vec;
  const unsigned blocks = grid_stride_blocks(groups, threads);
  if (vector)
    adamw_kernel<4><<<blocks, threads, 0, stream>>>(params, grads, m, v, n, segment_starts, segment_decay, segments,
                                                    scalars, status, copy);
  else
    adamw_kernel<1><<<blocks, threads, 0, stream>>>(params, grads, m, v, n, segment_starts, segment_decay, segments,
                                                    scalars, status, copy);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void adamw_decide(double* status, double beta1, double beta2, double clip_norm, cudaStream_t stream) {
  adamw_decide_kernel<<<1, 1, 0, stream>>>(status, beta1, beta2, clip_norm);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
