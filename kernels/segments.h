// The segments of packed rows, computed once per batch and shared by every attention and
// rotary call of a step (the Transformer computes them in its forward; the backward's
// calls reuse them). A segment starts at t = 0 and at every token with reset bit 0
// (kernels/scan.h has the bits).
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

struct Segments {
  Tensor reset;   // [B, T] i32, the packer's bits (attention also reads bit 1, the prompt)
  Tensor bounds;  // [2, B, T] i32 on reset's device: [0] first token of t's segment, [1] one past its last
};

// The bounds of `reset`'s segments, on its device.
Segments segments_of(const Tensor& reset);

// Throws unless `s` holds [B, T] resets and their [2, B, T] bounds on `device`; names the op.
void check_segments(const char* op, const Segments& s, std::int64_t B, std::int64_t T, Device device);

}  // namespace birdie::kernels
