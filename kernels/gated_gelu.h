// The gated GeLU of Hawk's and the Transformer's MLPs and of Hawk's temporal block:
// out = gelu(a) ⊙ b, GeLU in its exact erf form (kernels/cpu/math.h), in one pass each way
// instead of a GeLU pass, a product pass and their backward passes.
//
// Two ways to give the operands: two tensors a and b [..., M] (gelu_mul), or the two halves
// of one tensor x [..., 2M], a = x[..., :M] and b = x[..., M:] (geglu: a fused up-projection
// read in place, without splitting it first). dtypes: f32 or bf16 on both devices (math in
// f32; the CPU emulates bf16: outputs rounded once), f64 on the CPU; every tensor of a
// call has one dtype.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// out [..., M] = gelu(a) ⊙ b.
void gelu_mul_forward(const Tensor& a, const Tensor& b, Tensor& out);
// da = dy ⊙ b ⊙ gelu'(a), db = dy ⊙ gelu(a), both overwritten.
void gelu_mul_backward(const Tensor& a, const Tensor& b, const Tensor& dy, Tensor& da, Tensor& db);

// out [..., M] = gelu(x[..., :M]) ⊙ x[..., M:], x [..., 2M].
void geglu_forward(const Tensor& x, Tensor& out);
// dx [..., 2M] = [da | db] of gelu_mul_backward on x's halves, overwritten.
void geglu_backward(const Tensor& x, const Tensor& dy, Tensor& dx);

}  // namespace birdie::kernels
