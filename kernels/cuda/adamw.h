// Launcher of the CUDA AdamW step (kernels/cuda/adamw.cu): the whole flat buffer in one
// launch, the per-parameter decay flags passed as a segment table.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace birdie::kernels::cuda {

struct AdamWScalars {
  double lr, beta1, beta2, eps, weight_decay;
  double correction1, correction2;  // 1 − β^step
  double grad_scale;                // multiplies the gradient (clipping folded in)
};

// params/grads/m/v: f32 [n]. segment_starts [segments] (ascending, the first 0) and
// segment_decay [segments] (0/1) are device arrays. compute_copy (nullable): bf16 [n],
// written with the updated parameters rounded to nearest even.
void adamw_step(float* params, const float* grads, float* m, float* v, std::int64_t n,
                const std::int64_t* segment_starts, const std::uint8_t* segment_decay,
                int segments, const AdamWScalars& scalars, void* compute_copy,
                cudaStream_t stream);

}  // namespace birdie::kernels::cuda
