// What AdamW decides for one step from the gradient's sum of squares, in the same source
// for the CPU and for the GPU (one thread of kernels/cuda/adamw.cu): the step's values live
// in a small f64 buffer on the parameters' device, so the update needs no host wait
// (kernels/adamw.h).
#pragma once

#include <cmath>

#include "engine/host_device.h"

namespace birdie::kernels::adamw_status {

// Slots of the status buffer: f64 [size].
enum Slot : int {
  squares = 0,      // in: Σ g² over the whole (summed) gradient
  loss = 1,         // in: the step's loss (0 when the caller gives none)
  norm = 2,         // out: sqrt(squares), before clipping
  skipped = 3,      // out: 1 when norm or loss is not finite (nothing is updated), else 0
  steps = 4,        // in/out: updates taken so far; +1 unless skipped (bias correction)
  grad_scale = 5,   // out: min(1, clip_norm / norm), or 1 without clipping (clip_norm ≤ 0)
  correction1 = 6,  // out: 1 − β1^steps
  correction2 = 7,  // out: 1 − β2^steps
  size = 8
};

// The step's decision, in place. A skipped step leaves steps, grad_scale and the
// corrections as they were (and the update then changes nothing), exactly as if the host
// had read the norm and not called the update.
BIRDIE_HOST_DEVICE void decide(double* s, double beta1, double beta2, double clip_norm) {
  const double n = std::sqrt(s[squares]);
  s[norm] = n;
  const bool skip = !std::isfinite(n) || !std::isfinite(s[loss]);
  s[skipped] = skip ? 1.0 : 0.0;
  if (skip) return;
  s[steps] += 1.0;
  s[grad_scale] = clip_norm > 0 && n > clip_norm ? clip_norm / n : 1.0;
  s[correction1] = 1.0 - std::pow(beta1, s[steps]);
  s[correction2] = 1.0 - std::pow(beta2, s[steps]);
}

}  // namespace birdie::kernels::adamw_status
