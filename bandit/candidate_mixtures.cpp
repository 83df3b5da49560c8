#include "bandit/candidate_mixtures.h"

#include <cmath>

namespace birdie::bandit {

std::vector<double> draw_simplex_point(std::size_t n, RandomGenerator& rng) {
  BIRDIE_CHECK(n >= 1, "draw_simplex_point: empty simplex");
  std::vector<double> point(n);
  double total = 0;
  for (double& x : point) total += x = -std::log1p(-rng.uniform());
  if (!(total > 0)) {  // every draw exactly 0 (probability ~0): the centre
    for (double& x : point) x = 1.0 / double(n);
    return point;
  }
  for (double& x : point) x /= total;
  return point;
}

Tensor draw_candidate_mixtures(std::int64_t n, std::int64_t uniform, std::int64_t sharpened,
                               double power, RandomGenerator& rng) {
  BIRDIE_CHECK(n >= 1 && uniform >= 0 && sharpened >= 0 && uniform + sharpened >= 1,
               "draw_candidate_mixtures: need ≥ 1 configuration and ≥ 1 candidate (got ", n,
               " configurations, ", uniform, " + ", sharpened, " candidates)");
  const std::int64_t count = uniform + sharpened;
  Tensor u = Tensor::empty({count, n}, DType::f64);
  fill_uniform(u, rng, 0.0, 1.0);  // one reserved block range: cheap and reproducible
  const double* pu = u.data<double>();
  Tensor out = Tensor::empty({count, n}, DType::f32);
  float* po = out.data<float>();
  std::vector<double> row(n);
  for (std::int64_t c = 0; c < count; ++c) {
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      double x = -std::log1p(-pu[c * n + i]);
      if (c >= uniform) x = std::pow(x, power);  // sharpening commutes with the normalization
      total += row[i] = x;
    }
    for (std::int64_t i = 0; i < n; ++i)
      po[c * n + i] = static_cast<float>(total > 0 ? row[i] / total : 1.0 / double(n));
  }
  return out;
}

}  // namespace birdie::bandit
