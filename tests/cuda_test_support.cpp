#include "tests/cuda_test_support.h"

#include <cmath>
#include <limits>

namespace birdie::testing {

// Every suite of this support file needs a GPU: without one, test_main exits 77.
bool suite_needs_gpu() { return true; }

Tensor random_cpu(const Shape& shape, DType dtype, RandomGenerator& rng, double low, double high) {
  Tensor f = Tensor::empty(shape, DType::f32);
  fill_uniform(f, rng, low, high);
  return dtype == DType::f32 ? f : f.to(dtype);
}

Tensor poisoned_cuda(const Shape& shape, DType dtype) {
  const double poison = dtype == DType::i32 ? double(std::numeric_limits<std::int32_t>::min())
                                            : std::numeric_limits<double>::quiet_NaN();
  return Tensor::full(shape, poison, dtype, Device::cuda);
}

Tensor as_f64_cpu(const Tensor& t) {
  const Tensor host = t.is_cpu() ? t : t.to(Device::cpu);
  return host.to(DType::f64);
}

double relative_error(const Tensor& got, const Tensor& ref) {
  const std::vector<double> g = got.to_vector<double>();
  const std::vector<double> r = ref.to_vector<double>();
  if (g.size() != r.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(g[i])) return std::numeric_limits<double>::infinity();
    diff += (g[i] - r[i]) * (g[i] - r[i]);
    norm += r[i] * r[i];
  }
  if (norm == 0) return diff == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff / norm);
}

}  // namespace birdie::testing
