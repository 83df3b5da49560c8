// Launchers of the CUDA RMSNorm (kernels/cuda/rmsnorm.cu). x, weight, y, dy, dx share
// `dtype` (f32 or bf16); the per-row statistics inv_rms have `stats` (f32, or bf16 with
// bf16 x); dweight has `dweight_dtype` (f32, or x's dtype). Accumulation in f32.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// With `residual` non-null the input is x + residual, stored (rounded to dtype) in
// residual_out before it is normalized: the pre-norm block's "h = h + f(h); u = norm(h)".
void rmsnorm_forward(DType dtype, DType stats, const void* x, const void* residual,
                     void* residual_out, const void* weight, double eps, std::int64_t rows,
                     std::int64_t D, void* y, void* inv_rms, cudaStream_t stream);
// dx overwritten, or added into (in f32, rounded once) when accumulate_dx; dweight
// accumulated (+=) in a fixed order (deterministic).
void rmsnorm_backward(DType dtype, DType stats, DType dweight_dtype, const void* x,
                      const void* weight, const void* inv_rms, const void* dy, std::int64_t rows,
                      std::int64_t D, void* dx, void* dweight, bool accumulate_dx,
                      cudaStream_t stream);

}  // namespace birdie::kernels::cuda
