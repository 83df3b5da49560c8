// Launchers of the CUDA gated GeLU (kernels/cuda/gated_gelu.cu; semantics in
// kernels/gated_gelu.h). Rows of width M: a and b read with the row stride `stride` (two
// tensors: M; the halves of one tensor: 2M, b = a + M), out and dy dense [rows, M], da and db
// written with the stride of a and b. dtype f32 or bf16, math in f32.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

void gated_gelu_forward(DType dtype, const void* a, const void* b, std::int64_t rows,
                        std::int64_t width, std::int64_t stride, void* out, cudaStream_t stream);
void gated_gelu_backward(DType dtype, const void* a, const void* b, const void* dy, std::int64_t rows,
                         std::int64_t width, std::int64_t stride, void* da, void* db,
                         cudaStream_t stream);

}  // namespace birdie::kernels::cuda
