#include "tests/cuda_test_support.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cuda_runtime.h"

namespace birdie::testing {

namespace {
constexpr double infinity = std::numeric_limits<double>::infinity();
}  // namespace

// Every suite of this support file needs a GPU: without one, test_main exits 77.
bool suite_needs_gpu() { return true; }

Tensor random_cpu(const Shape& shape, DType dtype, RandomGenerator& rng, double low, double high) {
  Tensor f = Tensor::empty(shape, DType::f32);
  fill_uniform(f, rng, low, high);
  return dtype == DType::f32 ? f : f.to(dtype);
}

Tensor poisoned_cuda(const Shape& shape, DType dtype) {
  if (dtype == DType::i32)
    return Tensor::full(shape, double(std::numeric_limits<std::int32_t>::min()), dtype, Device::cuda);
  // All-ones bytes: a NaN in f32, f64 and bf16 alike (exponent all ones, mantissa nonzero).
  Tensor t = Tensor::empty(shape, dtype, Device::cuda);
  if (t.nbytes() > 0) BIRDIE_CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0xFF, t.nbytes(), current_stream()));
  return t;
}

Tensor as_f64_cpu(const Tensor& t) {
  const Tensor host = t.is_cpu() ? t : t.to(Device::cpu);
  return host.to(DType::f64);
}

double relative_error(const Tensor& got, const Tensor& ref) {
  const std::vector<double> g = got.to_vector<double>();
  const std::vector<double> r = ref.to_vector<double>();
  if (g.size() != r.size()) return infinity;
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!std::isfinite(g[i])) return infinity;
    diff += (g[i] - r[i]) * (g[i] - r[i]);
    norm += r[i] * r[i];
  }
  if (norm == 0) return diff == 0 ? 0.0 : infinity;
  return std::sqrt(diff / norm);
}

ErrorSummary summarize_error(const std::vector<double>& got, const std::vector<double>& ref,
                             double floor) {
  ErrorSummary e;
  if (got.size() != ref.size()) {
    e.relative_l2 = e.max_abs = e.max_relative = infinity;
    return e;
  }
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(ref[i])) {
      if (e.non_finite++ == 0) e.worst = static_cast<std::int64_t>(i), e.worst_got = got[i], e.worst_ref = ref[i];
      continue;
    }
    const double d = std::abs(got[i] - ref[i]);
    diff += d * d;
    norm += ref[i] * ref[i];
    e.max_abs = std::max(e.max_abs, d);
    e.max_ref = std::max(e.max_ref, std::abs(ref[i]));
  }
  if (e.non_finite > 0) {
    e.relative_l2 = e.max_abs = e.max_relative = infinity;
    return e;
  }
  e.relative_l2 = norm > 0 ? std::sqrt(diff / norm) : (diff == 0 ? 0.0 : infinity);
  const double floor_value = floor * e.max_ref;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(got[i] - ref[i]);
    const double scale = std::max(std::abs(ref[i]), floor_value);
    const double r = scale > 0 ? d / scale : (d == 0 ? 0.0 : infinity);
    if (r > e.max_relative || e.worst < 0) {
      e.max_relative = r;
      e.worst = static_cast<std::int64_t>(i);
      e.worst_got = got[i];
      e.worst_ref = ref[i];
    }
  }
  return e;
}

ErrorSummary summarize_error(const Tensor& got, const Tensor& ref, double floor) {
  return summarize_error(got.to_vector<double>(), ref.to_vector<double>(), floor);
}

double max_abs_error(const Tensor& got, const Tensor& ref) { return summarize_error(got, ref, 1.0).max_abs; }

double max_magnitude(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

double max_relative_error(const Tensor& got, const Tensor& ref, double floor) {
  return summarize_error(got, ref, floor).max_relative;
}

void check_close(const ErrorSummary& e, const Tolerance& tolerance, const char* what) {
  INFO(std::string(what), ": relative L2 error ", e.relative_l2, " (bound ", tolerance.l2,
       "), largest elementwise error ", e.max_relative, " (bound ", tolerance.elementwise,
       ", floor ", tolerance.floor, " of the largest magnitude ", e.max_ref, "), largest |got - ref| ",
       e.max_abs, "; worst element ", e.worst, ": got ", e.worst_got, ", reference ", e.worst_ref,
       "; non-finite elements (got or reference): ", e.non_finite);
  CHECK(e.relative_l2 <= tolerance.l2);
  CHECK(e.max_relative <= tolerance.elementwise);
}

void check_close(const Tensor& got, const Tensor& ref, const Tolerance& tolerance, const char* what) {
  check_close(summarize_error(got, ref, tolerance.floor), tolerance, what);
}

}  // namespace birdie::testing
