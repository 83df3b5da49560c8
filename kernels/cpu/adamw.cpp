#include "kernels/cpu/adamw.h"

#include <cmath>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& h, double grad_scale_value,
                double correction1, double correction2) {
  dispatch_floating(params, "adamw_step", [&](auto zero) {
    using T = decltype(zero);
    T* p = params.data<T>();
    const T* g = grads.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    // Arithmetic in T (f32 for training, f64 in checks): the loop vectorizes.
    const T b1 = T(h.beta1), b2 = T(h.beta2), one_minus_b1 = T(1 - h.beta1), one_minus_b2 = T(1 - h.beta2);
    const T step_size = T(h.lr / correction1);
    const T inv_sqrt_correction2 = T(1.0 / std::sqrt(correction2));
    const T eps = T(h.eps), grad_scale = T(grad_scale_value);
    for (const DecaySegment& segment : segments) {
      const T decay_factor = static_cast<T>(segment.decay ? 1.0 - h.lr * h.weight_decay : 1.0);
      const std::int64_t end = segment.offset + segment.length;
#pragma omp parallel for simd if (segment.length > parallel_threshold)
      for (std::int64_t i = segment.offset; i < end; ++i) {
        const T gi = g[i] * grad_scale;
        const T mi = b1 * pm[i] + one_minus_b1 * gi;
        const T vi = b2 * pv[i] + one_minus_b2 * gi * gi;
        pm[i] = mi;
        pv[i] = vi;
        // m̂ / (sqrt(v̂) + eps) with the bias corrections folded into the constants.
        p[i] = p[i] * decay_factor - step_size * mi / (std::sqrt(vi) * inv_sqrt_correction2 + eps);
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
