// Elementwise ops. Binary ops broadcast `b` when its shape is a trailing part of `a`'s
// (a bias [N] against activations [B, T, N]); otherwise shapes must be equal.
// GeLU is the exact form, x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), as PyTorch's default.
// dtypes: operands and output share one, f32 or bf16 on both devices (math in f32, one
// rounding per bf16 output; the CPU emulates bf16), f64 on the CPU. Exceptions below.
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

// dst += src (same shape), the gradient accumulation of autograd. src may also be bf16
// into an f32 dst (mixed precision: a bf16 contribution into an fp32 master gradient).
void accumulate(Tensor& dst, const Tensor& src);
// out[j] = Σ_i in[i, j] over all leading dimensions, out.shape a trailing part of in.shape
// (the backward of a broadcast). Summed in f32 (f64 for f64); out has in's dtype, or is f32
// with bf16 in (bias gradients of bf16 activations, never rounded to bf16 on the way).
void sum_to_trailing(const Tensor& in, Tensor& out);
// dst *= factor in place.
void scale_inplace(Tensor& dst, double factor);
// dst *= factor[0] in place, factor a one-element f32 or f64 tensor on dst's device: an
// upstream gradient applied without reading it back to the host.
void scale_inplace(Tensor& dst, const Tensor& factor);

// True when b broadcasts against a (equal shapes, or b's shape is a trailing part).
bool broadcasts_to(const Shape& b, const Shape& a);

}  // namespace birdie::kernels
