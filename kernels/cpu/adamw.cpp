#include "kernels/cpu/adamw.h"

#include <cmath>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& h) {
  dispatch_floating(params, "adamw_step", [&](auto zero) {
    using T = decltype(zero);
    T* p = params.data<T>();
    const T* g = grads.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    const double correction1 = 1.0 - std::pow(h.beta1, double(h.step));
    const double correction2 = 1.0 - std::pow(h.beta2, double(h.step));
    for (const DecaySegment& segment : segments) {
      const T decay_factor = static_cast<T>(segment.decay ? 1.0 - h.lr * h.weight_decay : 1.0);
      const std::int64_t end = segment.offset + segment.length;
#pragma omp parallel for if (segment.length > parallel_threshold)
      for (std::int64_t i = segment.offset; i < end; ++i) {
        const double gi = g[i];
        const double mi = h.beta1 * pm[i] + (1.0 - h.beta1) * gi;
        const double vi = h.beta2 * pv[i] + (1.0 - h.beta2) * gi * gi;
        pm[i] = static_cast<T>(mi);
        pv[i] = static_cast<T>(vi);
        const double update = (mi / correction1) / (std::sqrt(vi / correction2) + h.eps);
        p[i] = static_cast<T>(p[i] * decay_factor - h.lr * update);
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
