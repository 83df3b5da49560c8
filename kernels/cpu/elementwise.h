#pragma once
#include "engine/tensor.h"
namespace birdie::kernels::cpu {
// Validated operands (see kernels/elementwise.h).
void add(const Tensor& a, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void scale(const Tensor& a, double factor, Tensor& out);
void sigmoid_forward(const Tensor& x, Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void gelu_forward(const Tensor& x, Tensor& y);
void gelu_backward(const Tensor& x, const Tensor& dy, Tensor& dx);
void accumulate(Tensor& dst, const Tensor& src);
void sum_to_trailing(const Tensor& in, Tensor& out);
}  // namespace birdie::kernels::cpu
