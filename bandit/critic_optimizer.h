// AdamW for the critic: the update of autograd/adamw.h (and kernels/adamw.h: decoupled
// weight decay, bias correction, global-norm clipping, a non-finite gradient skips the step)
// fused into one f32 pass that the compiler vectorizes and OpenMP splits across cores. The
// engine's CPU AdamW is the f64 reference and took ~25 ms per step for the critic's 2.7M
// parameters (apps/bandit_bench), more than the rest of a training iteration; here the
// clip factor is folded into the update instead of rescaling the gradients first, and the
// pass zeroes the gradients it consumed (so the caller need not clear them again).
#pragma once

#include <cstdint>

#include "autograd/adamw.h"
#include "autograd/parameters.h"

namespace birdie::bandit {

class CriticAdamW {
 public:
  CriticAdamW(autograd::ParameterSet& parameters, const autograd::AdamWConfig& config);

  autograd::StepReport step(double lr);

  std::int64_t steps_taken() const { return steps_; }
  void set_steps_taken(std::int64_t steps) { steps_ = steps; }
  Tensor& first_moment() { return m_; }
  Tensor& second_moment() { return v_; }

 private:
  autograd::ParameterSet& parameters_;
  autograd::AdamWConfig config_;
  Tensor m_, v_;
  std::vector<kernels::DecaySegment> segments_;
  std::int64_t steps_ = 0;
};

}  // namespace birdie::bandit
