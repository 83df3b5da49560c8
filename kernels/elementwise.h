// Elementwise ops. Binary ops broadcast `b` when its shape is a trailing part of `a`'s
// (a bias [N] against activations [B, T, N]); otherwise shapes must be equal.
// GeLU is the exact form, x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), as PyTorch's default.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

void add(const Tensor& a, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void scale(const Tensor& a, double factor, Tensor& out);
void sigmoid_forward(const Tensor& x, Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx);  // uses the output y
void gelu_forward(const Tensor& x, Tensor& y);
void gelu_backward(const Tensor& x, const Tensor& dy, Tensor& dx);

// dst += src (same shape), the gradient accumulation of autograd.
void accumulate(Tensor& dst, const Tensor& src);
// out[j] = Σ_i in[i, j] over all leading dimensions, out.shape a trailing part of in.shape
// (the backward of a broadcast).
void sum_to_trailing(const Tensor& in, Tensor& out);
// dst *= factor in place.
void scale_inplace(Tensor& dst, double factor);

// True when b broadcasts against a (equal shapes, or b's shape is a trailing part).
bool broadcasts_to(const Shape& b, const Shape& a);

}  // namespace birdie::kernels
