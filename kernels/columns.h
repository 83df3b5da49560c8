// Copies a block of columns between two row-major tensors viewed as [rows, width]: the
// data movement under the autograd ops split_last and concat_last (autograd/ops.h), which
// Hawk's temporal block uses to cut its fused projection apart and to put the RG-LRU's
// input [x | r | i] together (model/hawk/hawk_block.h).
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
