#include "autograd/adamw.h"

#include <cmath>

#include "engine/nvtx.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

AdamW::AdamW(ParameterSet& parameters, AdamWConfig config)
    : parameters_(parameters),
      config_(config),
      m_(Tensor::zeros(parameters.values().shape(), parameters.values().dtype(),
                       parameters.values().device())),
      v_(Tensor::zeros(parameters.values().shape(), parameters.values().dtype(),
                       parameters.values().device())),
      segments_(parameters.decay_segments()) {}

StepReport AdamW::step(double lr) {
  BIRDIE_NVTX_RANGE("adamw.step");
  StepReport report;
  report.grad_norm = std::sqrt(kernels::sum_of_squares(parameters_.gradients()));
  if (!std::isfinite(report.grad_norm)) {
    report.skipped = true;
    return report;
  }
  ++steps_;
  // Clipping is folded into the update (the gradients themselves are left as they are).
  const double clip = config_.clip_norm > 0 && report.grad_norm > config_.clip_norm
                          ? config_.clip_norm / report.grad_norm
                          : 1.0;
  kernels::AdamWHyper hyper{lr, config_.beta1, config_.beta2, config_.eps, config_.weight_decay,
                            steps_, clip};
  Tensor& compute_copy = parameters_.compute_values();
  kernels::adamw_step(parameters_.values(), parameters_.gradients(), m_, v_, segments_, hyper,
                      compute_copy.defined() ? &compute_copy : nullptr);
  return report;
}

}  // namespace birdie::autograd
