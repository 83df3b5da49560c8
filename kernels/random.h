// Random fills of tensors on any device, with the numbers of engine/random.h: a GPU fill
// gives the same bits as the CPU fill for the same generator state.
#pragma once

#include "engine/random.h"

namespace birdie::kernels {

// Like birdie::fill_uniform (engine/random.h) for f32 tensors on the CPU or the GPU; on
// the CPU it is that function. Advances rng by the same number of blocks on both.
void fill_uniform(Tensor& t, RandomGenerator& rng, double low, double high);

}  // namespace birdie::kernels
