// AdamW (Loshchilov & Hutter) over one flat parameter buffer, with decoupled weight decay
// and bias correction:
//   m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²
//   p ← p - lr · wd · p  (only where decay applies)
//   p ← p - lr · (m / (1-β1^step)) / (sqrt(v / (1-β2^step)) + eps)
// The gradient enters multiplied by grad_scale: global-norm clipping folded into the
// update, without a pass that rescales the gradients first.
//
// The step's own values (grad_scale, the step count of the bias correction, and whether to
// skip it) are read by the update from a status buffer on the parameters' device
// (kernels/adamw_status.h), which adamw_decide() fills from the gradient's sum of squares:
// on a GPU the norm, the clip factor and the decision to skip a non-finite step never
// travel through the host, so the host queues the step without waiting for the backward
// pass to finish.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "kernels/adamw_status.h"

namespace birdie::kernels {

struct AdamWHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  std::int64_t step = 1;  // 1-based, for bias correction
  double grad_scale = 1.0;
};

// A run of the flat buffer that shares one decay flag (one parameter tensor).
struct DecaySegment {
  std::int64_t offset = 0;
  std::int64_t length = 0;
  bool decay = true;
};

// The segments of a buffer of `elements` values as the update reads them, prepared once:
// an optimizer keeps one for its whole run (autograd/adamw.h), so that a step neither
// checks, allocates nor copies its table. They must tile the buffer in order (every
// element in exactly one segment). On `device` cuda the table the kernel searches (the
// starts as i64, then the decay flags as u8) is uploaded here, once, and lives on the
// device; on the CPU the update walks the segments themselves.
class AdamWSegments {
 public:
  AdamWSegments() = default;
  AdamWSegments(std::vector<DecaySegment> segments, std::int64_t elements, Device device);
  const std::vector<DecaySegment>& segments() const { return segments_; }
  std::int64_t elements() const { return elements_; }
  Device device() const { return device_; }
  const Tensor& device_table() const { return device_table_; }  // cuda only

 private:
  std::vector<DecaySegment> segments_;
  std::int64_t elements_ = 0;
  Device device_ = Device::cpu;
  Tensor device_table_;
};

// params, grads, m, v: the same flat shape and dtype (f32, or f64 in tests; f32 on the
// GPU: fp32 master weights and moments); every element must be covered by exactly one
// segment. compute_copy (optional, bf16, params' shape and device): receives the updated
// parameters rounded to nearest even, the bf16 weights the next step computes with.
// On the GPU the whole buffer is one launch, which reads the segment table on the device.
// This form takes the step and grad_scale from `hyper` (a step decided on the host), and
// prepares the segments (and on a GPU uploads them) at each call: for checks and one-off
// updates, not for a training loop.
void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& hyper,
                Tensor* compute_copy = nullptr);
// The same update with the step count, the bias corrections and grad_scale read from
// `status` (f64 [adamw_status::size] on params' device, filled by adamw_decide; hyper.step
// and hyper.grad_scale are not used), and segments prepared for params' size and device.
// When status[skipped] is set nothing is written: not the parameters, the moments nor the
// compute copy. On a GPU nothing is allocated or copied from the host.
void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const AdamWSegments& segments, const AdamWHyper& hyper,
                const Tensor& status, Tensor* compute_copy = nullptr);

// adamw_status::decide on status's device (one thread of one block on a GPU).
void adamw_decide(Tensor& status, double beta1, double beta2, double clip_norm);

}  // namespace birdie::kernels
