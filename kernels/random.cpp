#include "kernels/random.h"

#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/random.h"
#endif

namespace birdie::kernels {

void fill_uniform(Tensor& t, RandomGenerator& rng, double low, double high) {
  if (t.is_cpu()) return birdie::fill_uniform(t, rng, low, high);
  check_dtype(t, DType::f32, "fill_uniform (CUDA)");
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("fill_uniform");
  const RandomState state = rng.state();
  const std::uint64_t first = rng.reserve_blocks((t.numel() + 3) / 4);
  cuda::fill_uniform(t.data<float>(), t.numel(), state.seed, state.stream, first, low, high,
                     current_stream());
#else
  no_cuda_kernel("fill_uniform");
#endif
}

}  // namespace birdie::kernels
