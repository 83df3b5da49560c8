#pragma once
#include "engine/tensor.h"
#include "kernels/attention.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/attention.h); f32 or f64.
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                       AttentionMask mask, Tensor& out, Tensor& lse);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv);
}  // namespace birdie::kernels::cpu
