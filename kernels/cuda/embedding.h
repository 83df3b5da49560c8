// Launchers of the CUDA embedding lookup and its gradient (kernels/cuda/embedding.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"

namespace birdie::kernels::cuda {

// out[r, :] = table[ids[r], :]; table/out f32 or bf16 (same dtype). An id outside
// [0, V) gives a NaN row (the device cannot throw; the CPU reference does).
void embedding_forward(DType dtype, const void* table, const std::int32_t* ids,
                       std::int64_t count, std::int64_t V, std::int64_t D, void* out,
                       cudaStream_t stream);
// dtable[ids[r], :] += dout[r, :], deterministic: the (id, position) pairs are radix-sorted
// (stable), then each run of equal ids is summed in position order, in f32, and added
// once. No atomics. dout/dtable f32 or bf16 (dtable may be f32 with bf16 dout). Ids outside
// [0, V) are skipped.
void embedding_backward(DType dout_dtype, DType table_dtype, const std::int32_t* ids,
                        std::int64_t count, std::int64_t V, std::int64_t D, const void* dout,
                        void* dtable, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
