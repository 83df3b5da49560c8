#include "bandit/critic_optimizer.h"

#include <algorithm>
#include <cmath>
#include <vector>


namespace birdie::bandit {

namespace {
// Σ x² in fixed blocks (f32 within a block, vectorized; f64 across blocks in order), so the
// result does not depend on the thread count.
double sum_of_squares(const Tensor& x) {
  constexpr std::int64_t block = 8192;
  const float* p = x.data<float>();
  const std::int64_t n = x.numel(), blocks = (n + block - 1) / block;
  std::vector<double> partial(blocks);
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (std::int64_t b = 0; b < blocks; ++b) {
    float acc = 0.0f;
    const std::int64_t end = std::min(n, (b + 1) * block);
#pragma omp simd reduction(+ : acc)
    for (std::int64_t i = b * block; i < end; ++i) acc += p[i] * p[i];
    partial[b] = acc;
  }
  double total = 0;
  for (double v : partial) total += v;
  return total;
}
}  // namespace

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
  report.grad_norm = std::sqrt(sum_of_squares(parameters_.gradients()));
  if (!std::isfinite(report.grad_norm)) {
    report.skipped = true;
    parameters_.zero_grad();
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
  float* g = parameters_.gradients().data<float>();
  float* pm = m_.data<float>();
  float* pv = v_.data<float>();
  for (const kernels::DecaySegment& segment : segments_) {
    const float decay = float(segment.decay ? 1.0 - lr * config_.weight_decay : 1.0);
    const std::int64_t begin = segment.offset, end = segment.offset + segment.length;
#pragma omp parallel for simd schedule(static) if (segment.length > (1 << 15))
    for (std::int64_t i = begin; i < end; ++i) {
      const float gi = g[i] * gscale;
      g[i] = 0.0f;  // the gradient is consumed: the next backward accumulates from zero
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
