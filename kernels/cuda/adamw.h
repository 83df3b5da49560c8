// Launchers of the CUDA AdamW step (kernels/cuda/adamw.cu): the whole flat buffer in one
// launch, the per-parameter decay flags passed as a segment table, the step's own values
// (skip, clip factor, bias corrections) read from a device status buffer
// (kernels/adamw_status.h) that adamw_decide fills on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace birdie::kernels::cuda {

struct AdamWScalars {
  double lr, beta1, beta2, eps, weight_decay;
};

// params/grads/m/v: f32 [n]. segment_starts [segments] (ascending, the first 0) and
// segment_decay [segments] (0/1) are device arrays. status: f64 [adamw_status::size] on the
// device (its skipped, grad_scale and correction slots are read; when skipped is set
// nothing is written). compute_copy (nullable): bf16 [n], written with the updated
// parameters rounded to nearest even.
void adamw_step(float* params, const float* grads, float* m, float* v, std::int64_t n,
                const std::int64_t* segment_starts, const std::uint8_t* segment_decay,
                int segments, const AdamWScalars& scalars, const double* status, void* compute_copy,
                cudaStream_t stream);

// adamw_status::decide(status, ...) by one device thread.
void adamw_decide(double* status, double beta1, double beta2, double clip_norm, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
