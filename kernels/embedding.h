// Embedding lookup: out[r, :] = table[ids[r], :].
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// table [V, D], ids [...] (i32, each in [0, V)); out [..., D].
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
// dtable[ids[r], :] += dout[r, :] (scatter-add, accumulated).
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable);

}  // namespace birdie::kernels
