// Launcher of the CUDA Philox fill (kernels/cuda/random.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace birdie::kernels::cuda {

// out[i] = low + (high − low) · uniform(block first_block + i/4, word i%4) of Philox under
// (seed, stream): the mapping of engine/random.cpp's fill_uniform, computed in f64 and
// rounded to f32 the same way, so the bits equal the CPU fill's.
void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream_id,
                  std::uint64_t first_block, double low, double high, cudaStream_t stream);

}  // namespace birdie::kernels::cuda
