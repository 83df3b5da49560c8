// Reductions used by training: sums of squares for the global gradient norm.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// Σ x² in double precision (f32, f64 or bf16 input, on either device).
double sum_of_squares(const Tensor& x);
// Σ x in double precision.
double sum(const Tensor& x);
// out[0] = scale · Σ x, summed in double precision, without leaving the device (no host
// synchronization): out is [1], f32 or f64, on x's device.
void sum_into(const Tensor& x, double scale, Tensor& out);
// out[0] = Σ x², the same way (AdamW's gradient norm, kept on the device).
void sum_of_squares_into(const Tensor& x, Tensor& out);

}  // namespace birdie::kernels

#include <span>

namespace birdie::kernels {

// The L2 norm over all tensors together; when it exceeds max_norm (> 0) every tensor is
// scaled by max_norm / norm. Returns the norm before clipping (NaN/Inf are returned as
// they are and nothing is scaled, so the caller can skip the step).
double clip_global_norm(std::span<Tensor> tensors, double max_norm);

}  // namespace birdie::kernels
