// Launchers of the CUDA token sampling and generation bookkeeping (kernels/cuda/sampling.cu;
// the operands as in kernels/sampling.h, all contiguous and on the device).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/dtype.h"
#include "kernels/cpu/sampling.h"

namespace birdie::kernels::cuda {

// logits [B, V] of `dtype` (f32 or bf16); seeds [B, 2]; counters, tokens [B].
void sample_tokens(DType dtype, const void* logits, std::int64_t B, std::int64_t V, const SamplingRule& rule,
                   const std::int32_t* seeds, std::int32_t* counters, std::int32_t* tokens, cudaStream_t stream);
// tokens, counts, done [B]; out [B, M].
void record_tokens(const std::int32_t* tokens, std::int64_t B, std::int32_t eos, std::int32_t stop, std::int64_t M,
                   std::int32_t* out, std::int32_t* counts, std::int32_t* done, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
