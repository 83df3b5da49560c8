#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/embedding.h); ids are range-checked here.
void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out);
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable);
}  // namespace birdie::kernels::cpu
