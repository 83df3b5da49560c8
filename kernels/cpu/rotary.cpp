// The reference rotary embedding: the angle of each (token, pair) from its position in
// f64, applied to every head.
#include "kernels/cpu/rotary.h"

#include <cmath>

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/segments.h"

namespace birdie::kernels::cpu {

void rotary(const Tensor& x, const Tensor& reset, double base, int sign, Tensor& y) {
  dispatch_floating(x, "rotary", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t B = x.dim(0), Tn = x.dim(1), H = x.dim(2), Dh = x.dim(3), half = Dh / 2;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const std::int32_t* pr = reset.data<std::int32_t>();
#pragma omp parallel for if (x.numel() > parallel_threshold)
    for (std::int64_t b = 0; b < B; ++b) {
      const std::vector<std::int64_t> start = segment_starts(pr + b * Tn, Tn);
      for (std::int64_t t = 0; t < Tn; ++t) {
        const double position = double(t - start[t]);
        for (std::int64_t d = 0; d < half; ++d) {
          const double angle = sign * position * std::pow(base, -2.0 * double(d) / double(Dh));
          const double c = std::cos(angle), s = std::sin(angle);
          for (std::int64_t h = 0; h < H; ++h) {
            const std::int64_t at = ((b * Tn + t) * H + h) * Dh + d;
            // Both read before either is written: y may be x.
            const double x1 = px[at], x2 = px[at + half];
            py[at] = static_cast<T>(x1 * c - x2 * s);
            py[at + half] = static_cast<T>(x2 * c + x1 * s);
          }
        }
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
