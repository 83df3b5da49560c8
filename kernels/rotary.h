// Rotary position embedding (RoPE) over packed rows, rotate-half convention (GPT-NeoX,
// Llama): channel pairs (d, d + Dh/2), d < Dh/2, are rotated by the angle
//     θ(t, d) = p(t) · base^(−2d/Dh),   p(t) = t − (start of t's segment),
// so positions restart at every sample of a packed row (segments as in
// kernels/attention.h: a segment starts at t = 0 and where reset bit 0 is set):
//     y[d]        = x[d] cos θ − x[d + Dh/2] sin θ
//     y[d + Dh/2] = x[d + Dh/2] cos θ + x[d] sin θ
// x, y [B, T, H, Dh] (Dh even), reset [B, T] (i32). The angles are computed in f64 from
// the position (no table), the rotation in f32 for f32/bf16 x (bf16 output rounded once)
// and f64 for f64 x (CPU only).
#pragma once

#include "engine/tensor.h"
#include "kernels/segments.h"

namespace birdie::kernels {

// y = R(θ) x. y may be x itself (in place). `segments` from segments_of(reset), computed
// once per batch; the `reset` forms compute them for this call alone.
void rotary_forward(const Tensor& x, const Segments& segments, double base, Tensor& y);
void rotary_forward(const Tensor& x, const Tensor& reset, double base, Tensor& y);
// The backward pass is the inverse rotation: dx = R(−θ) dy (R is orthogonal). dx may be
// dy itself.
void rotary_backward(const Tensor& dy, const Segments& segments, double base, Tensor& dx);
void rotary_backward(const Tensor& dy, const Tensor& reset, double base, Tensor& dx);

}  // namespace birdie::kernels
