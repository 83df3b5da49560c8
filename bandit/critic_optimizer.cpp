#include "bandit/critic_optimizer.h"

#include <cmath>

#include "kernels/reduce.h"

namespace birdie::bandit {

CriticAdamW::CriticAdamW(autograd::ParameterSet& parameters, const autograd::AdamWConfig& config)
    : parameters_(parameters),
      config_(config),
      m_(Tensor::zeros(parameters.values().shape(), DType::f32)),
      v_(Tensor::zeros(parameters.values().shape(), DType::f32)),
      segments_(parameters.decay_segments()) {
  check_dtype(parameters.values(), DType::f32, "CriticAdamW parameters");
}

autograd::StepReport CriticAdamW::step(double lr) {
  autograd::StepReport report;
  report.grad_norm = std::sqrt(kernels::sum_of_squares(parameters_.gradients()));
  if (!std::isfinite(report.grad_norm)) {
    report.skipped = true;
    return report;
  }
  ++steps_;
  const double clip = config_.clip_norm > 0 && report.grad_norm > config_.clip_norm
                          ? config_.clip_norm / report.grad_norm : 1.0;
  const float b1 = float(config_.beta1), b2 = float(config_.beta2);
  const float one_minus_b1 = float(1.0 - config_.beta1), one_minus_b2 = float(1.0 - config_.beta2);
  const float step_size = float(lr / (1.0 - std::pow(config_.beta1, double(steps_))));
  const float inv_sqrt_c2 = float(1.0 / std::sqrt(1.0 - std::pow(config_.beta2, double(steps_))));
  const float eps = float(config_.eps), gscale = float(clip);
  float* p = parameters_.values().data<float>();
  const float* g = parameters_.gradients().data<float>();
  float* pm = m_.data<float>();
  float* pv = v_.data<float>();
  for (const kernels::DecaySegment& segment : segments_) {
    const float decay = float(segment.decay ? 1.0 - lr * config_.weight_decay : 1.0);
    const std::int64_t begin = segment.offset, end = segment.offset + segment.length;
#pragma omp parallel for simd schedule(static) if (segment.length > (1 << 15))
    for (std::int64_t i = begin; i < end; ++i) {
      const float gi = g[i] * gscale;
      const float mi = b1 * pm[i] + one_minus_b1 * gi;
      const float vi = b2 * pv[i] + one_minus_b2 * gi * gi;
      pm[i] = mi;
      pv[i] = vi;
      p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_c2 + eps);
    }
  }
  return report;
}

}  // namespace birdie::bandit
