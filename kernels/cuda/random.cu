// CUDA Philox uniform fill with the CPU fill's block/word mapping (engine/philox.h is
// shared by both sides).
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "engine/philox.h"
#include "kernels/cuda/random.h"

namespace birdie::kernels::cuda {

namespace {

__global__ void fill_uniform_kernel(float* __restrict__ out, std::int64_t n, std::uint64_t seed,
                                    std::uint64_t stream_id, std::uint64_t first_block, double low,
                                    double high) {
  // One thread per Philox block: four consecutive elements.
  const std::int64_t block = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t i0 = block * 4;
  if (i0 >= n) return;
  const Philox4x32Block bits = philox_block(seed, stream_id, first_block + block);
#pragma unroll
  for (int w = 0; w < 4; ++w)
    if (i0 + w < n)
      out[i0 + w] = static_cast<float>(low + (high - low) * static_cast<double>(uniform_from_bits(bits.word[w])));
}

}  // namespace

void fill_uniform(float* out, std::int64_t n, std::uint64_t seed, std::uint64_t stream_id,
                  std::uint64_t first_block, double low, double high, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int threads = 256;
  const std::int64_t blocks = (n + 3) / 4;
  fill_uniform_kernel<<<static_cast<unsigned>((blocks + threads - 1) / threads), threads, 0, stream>>>(
      out, n, seed, stream_id, first_block, low, high);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace birdie::kernels::cuda
