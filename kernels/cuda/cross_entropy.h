// Launcher of the CUDA fused cross-entropy (kernels/cuda/cross_entropy.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// logits [rows, V] (f32 or bf16), targets [rows] i32; row_loss [rows] of `loss_dtype`
// (f32, or the logits' dtype); dlogits (nullable) like logits. One block per row, each
// logit read once (rows up to 32768 wide) and (softmax − onehot)·grad_scale written. Never
// waits for the stream: a target outside [0, V) other than -1 gives that row NaN loss and
// gradient instead of an error.
void cross_entropy_forward_backward(DType dtype, DType loss_dtype, const void* logits,
                                    const std::int32_t* targets, std::int64_t rows, std::int64_t V,
                                    double grad_scale, void* row_loss, void* dlogits,
                                    cudaStream_t stream);

}  // namespace birdie::kernels::cuda
