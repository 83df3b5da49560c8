// The AdamW optimizer over a ParameterSet's flat buffers: moments in one buffer each,
// gradient clipping by global norm, one kernel call per step (which also rewrites the
// bf16 compute copy when the set has one).
#pragma once

#include "autograd/parameters.h"
#include "kernels/adamw.h"

namespace birdie::autograd {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  double clip_norm = 1.0;  // ≤ 0 disables clipping
};

struct StepReport {
  double grad_norm = 0;  // before clipping
  bool skipped = false;  // the gradient was not finite: nothing was changed
};

class AdamW {
 public:
  AdamW(ParameterSet& parameters, AdamWConfig config);

  // Updates the parameters with learning rate lr, the gradient clipped to the global norm
  // clip_norm (scaled inside the update; the gradient buffer is not modified). A
  // non-finite gradient norm skips the update (and does not advance the step count).
  StepReport step(double lr);

  std::int64_t steps_taken() const { return steps_; }
  Tensor& first_moment() { return m_; }
  Tensor& second_moment() { return v_; }
  // For restoring a checkpoint: the moments are copied in by the caller.
  void set_steps_taken(std::int64_t steps) { steps_ = steps; }

 private:
  ParameterSet& parameters_;
  AdamWConfig config_;
  Tensor m_, v_;
  std::vector<kernels::DecaySegment> segments_;
  std::int64_t steps_ = 0;
};

}  // namespace birdie::autograd
