// Embedding lookup: out[r, :] = table[ids[r], :].
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// table [V, D] (f32 or bf16; f64 too on the CPU), ids [...] (i32, each in [0, V));
// out [..., D] of table's dtype. The CPU throws on an id
// outside [0, V); the GPU cannot, and writes a NaN row for it (validate ids upstream).
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
// dtable[ids[r], :] += dout[r, :] (scatter-add, accumulated). dout has dtable's dtype, or
// is bf16 into an f32 dtable (on both devices; the CPU emulates bf16, summing in f32 and
// rounding a bf16 dtable once). The sum is deterministic (GPU: sorted ids, no atomics).
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable);

}  // namespace birdie::kernels
