// What the CUDA-core (attention.cu) and tensor-core (attention_tensor_core.cu) attention
// kernels share (included by .cu files only): the mask of kernels/attention.h over
// precomputed segment bounds, and the launch checks.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/cuda_runtime.h"

namespace birdie::kernels::cuda {
namespace {

// The mask of kernels/attention.h, with the segment start and end of each token
// precomputed (kernels/segments.h). `row(b, T)` moves the pointers to batch row b.
struct MaskRule {
  const std::int32_t* reset;
  const std::int32_t* start;
  const std::int32_t* end;
  bool prefix;
  __device__ MaskRule row(std::int64_t b, std::int64_t T) const {
    return MaskRule{reset + b * T, start + b * T, end + b * T, prefix};
  }
  __device__ bool prompt(std::int64_t t) const { return (reset[t] & 2) == 0; }
  // The last key (exclusive) query i can see, and the first query that can see key j.
  __device__ std::int64_t key_end(std::int64_t i) const { return prefix && prompt(i) ? end[i] : i + 1; }
  __device__ std::int64_t query_begin(std::int64_t j) const { return prefix && prompt(j) ? start[j] : j; }
};

// Whether query i (segment start start_i, prompt bit prompt_i) sees key j. Tokens past
// the end of a row carry starts no real token has (queries −2, keys −1): never seen.
__device__ __forceinline__ bool sees(std::int64_t i, std::int32_t start_i, bool prompt_i, std::int64_t j,
                                     std::int32_t start_j, bool prompt_j, bool prefix) {
  return start_i == start_j && (j <= i || (prefix && prompt_i && prompt_j));
}
constexpr std::int32_t query_past_end = -2, key_past_end = -1;

constexpr int default_shared_limit = 48 * 1024;

// Opts a kernel into more dynamic shared memory than the default 48 KiB when it needs it
// (the launches themselves stay in the .cu files, where the emulation rewrites them).
template <class Kernel>
void allow_shared_memory(Kernel kernel, std::size_t bytes) {
  if (bytes > default_shared_limit)
    BIRDIE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(bytes)));
}

// Blocks of `block_tokens` tokens × heads × rows of the batch.
dim3 attention_grid(std::int64_t B, std::int64_t T, std::int64_t H, int block_tokens) {
  BIRDIE_CHECK(B <= 65535 && H <= 65535, "attention (CUDA): batch ", B, " and heads ", H,
               " must each be at most 65535 (grid dimensions)");
  BIRDIE_CHECK(T < (std::int64_t{1} << 31), "attention (CUDA): time ", T, " exceeds the i32 segment bounds");
  return dim3(static_cast<unsigned>((T + block_tokens - 1) / block_tokens), static_cast<unsigned>(H),
              static_cast<unsigned>(B));
}

float attention_scale(std::int64_t Dh) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh))); }

}  // namespace
}  // namespace birdie::kernels::cuda
