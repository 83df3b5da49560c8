// Copies a block of columns between two row-major tensors viewed as [rows, width]. The
// model's paths never need it (fused projections are produced in pieces, autograd::
// linear_parts, or read in place, kernels/gated_gelu.h); tests and apps/bench cut fused
// fixtures and build the unfused baselines the fused kernels are measured against with it.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// dst[:, dst_begin + j] = src[:, src_begin + j] for j in [0, width), every row: src and dst
// are contiguous, have the same dtype (any) and device and the same number of rows once
// their last dimension is taken as the width. On the GPU one cudaMemcpy2DAsync on the
// current stream.
void copy_columns(const Tensor& src, std::int64_t src_begin, Tensor& dst, std::int64_t dst_begin,
                  std::int64_t width);

}  // namespace birdie::kernels
