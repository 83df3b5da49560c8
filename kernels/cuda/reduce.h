// Launchers of the CUDA reductions (kernels/cuda/reduce.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

enum class ReduceOp { sum, sum_of_squares };

// scale · Σ x or scale · Σ x² over n elements (f32, f64 or bf16) in f64, in a fixed order
// (a fixed grid of partial sums, then one block adds them in order): deterministic. Writes
// the result to device memory `result`, one element of result_dtype (f32 or f64), so a
// loss can stay on the device until someone reads it.
void reduce(DType dtype, ReduceOp op, const void* x, std::int64_t n, double scale,
            DType result_dtype, void* result, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
