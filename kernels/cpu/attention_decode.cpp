// The reference one-query attention (sums in double, as kernels/cpu/attention.cpp) and the
// rotary embedding at one position (the angles of kernels/cpu/rotary.cpp).
#include "kernels/cpu/attention_decode.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

void attention_decode(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out) {
  dispatch_floating(q, "attention_decode", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t n = k.dim(0), H = q.dim(0), Dh = q.dim(1);
    const double scale = 1.0 / std::sqrt(double(Dh));
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    T* po = out.data<T>();
#pragma omp parallel for if (k.numel() > parallel_threshold)
    for (std::int64_t h = 0; h < H; ++h) {
      std::vector<double> score(n), acc(Dh, 0.0);
      double max_score = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t d = 0; d < Dh; ++d) s += double(pq[h * Dh + d]) * pk[(j * H + h) * Dh + d];
        score[j] = s * scale;
        max_score = std::max(max_score, score[j]);
      }
      double total = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        const double p = std::exp(score[j] - max_score);
        total += p;
        for (std::int64_t d = 0; d < Dh; ++d) acc[d] += p * pv[(j * H + h) * Dh + d];
      }
      for (std::int64_t d = 0; d < Dh; ++d) po[h * Dh + d] = static_cast<T>(acc[d] / total);
    }
  });
}

void rotary_at_position(const Tensor& x, std::int64_t position, double base, Tensor& y) {
  dispatch_floating(x, "rotary_at_position", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t H = x.dim(0), Dh = x.dim(1), half = Dh / 2;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    for (std::int64_t d = 0; d < half; ++d) {
      const double angle = double(position) * std::pow(base, -2.0 * double(d) / double(Dh));
      const double c = std::cos(angle), s = std::sin(angle);
      for (std::int64_t h = 0; h < H; ++h) {
        const std::int64_t at = h * Dh + d;
        const double x1 = px[at], x2 = px[at + half];
        py[at] = static_cast<T>(x1 * c - x2 * s);
        py[at + half] = static_cast<T>(x2 * c + x1 * s);
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
