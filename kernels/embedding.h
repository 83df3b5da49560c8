// Embedding lookup: out[r, :] = table[ids[r], :].
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// table [V, D], ids [...] (i32, each in [0, V)); out [..., D]. The CPU throws on an id
// outside [0, V); the GPU cannot, and writes a NaN row for it (validate ids upstream).
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
// dtable[ids[r], :] += dout[r, :] (scatter-add, accumulated). On the GPU dout may be bf16
// with an f32 dtable, and the sum is deterministic (sorted ids, no atomics).
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable);

}  // namespace birdie::kernels
