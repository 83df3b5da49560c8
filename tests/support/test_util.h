// Shared test helpers: random tensors, error norms, and the finite-difference gradient
// check every differentiable op goes through.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace birdie::testing {

// Uniform values in [low, high) (never all zeros).
inline Tensor random_tensor(const Shape& shape, RandomGenerator& rng, double low = -1.0,
                            double high = 1.0, DType dtype = DType::f64) {
  Tensor t = Tensor::empty(shape, dtype);
  fill_uniform(t, rng, low, high);
  return t;
}

inline Tensor random_ids(const Shape& shape, RandomGenerator& rng, std::int32_t bound) {
  std::vector<std::int32_t> ids(shape_numel(shape));
  for (auto& id : ids) id = static_cast<std::int32_t>(rng.uniform_int(bound));
  return Tensor::from_values<std::int32_t>(ids, shape);
}

// ‖a − b‖ / ‖b‖ (‖a − b‖ when b is zero).
inline double relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff += (x[i] - y[i]) * (x[i] - y[i]);
    norm += y[i] * y[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

inline double max_abs_difference(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// A scalar that depends on every element of y with a distinct random weight, so a wrong
// gradient anywhere shows up: Σ y ⊙ w.
inline Tensor weighted_sum(const Tensor& y, std::uint64_t seed = 99) {
  RandomGenerator rng(seed);
  return autograd::sum(autograd::mul(y, random_tensor(y.shape(), rng, 0.5, 1.5, y.dtype())));
}

// Compares the tape's gradients of loss_fn(inputs) with central differences, in f64, for
// every element of every f64 input (integer inputs are passed through untouched).
// Each element must satisfy |analytic − numeric| ≤ atol + rtol · |numeric|.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& loss_fn,
                            std::vector<Tensor> inputs, double rtol = 1e-6, double atol = 1e-8,
                            double step = 1e-6) {
  for (Tensor& t : inputs)
    if (t.dtype() == DType::f64) {
      t.set_requires_grad(true);
      t.set_grad(Tensor());
    }
  autograd::backward(loss_fn(inputs));
  autograd::NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor& input = inputs[k];
    if (input.dtype() != DType::f64) continue;
    REQUIRE_MESSAGE(input.grad().defined(), "input ", k, " received no gradient");
    const auto analytic = input.grad().to_vector<double>();
    double* values = input.data<double>();
    for (std::int64_t i = 0; i < input.numel(); ++i) {
      const double saved = values[i];
      values[i] = saved + step;
      const double plus = loss_fn(inputs).item();
      values[i] = saved - step;
      const double minus = loss_fn(inputs).item();
      values[i] = saved;
      const double numeric = (plus - minus) / (2 * step);
      const double error = std::abs(analytic[i] - numeric);
      if (error > atol + rtol * std::abs(numeric)) {
        char message[160];
        std::snprintf(message, sizeof message, "input %zu element %lld: analytic %.12g vs numeric %.12g",
                      k, static_cast<long long>(i), analytic[i], numeric);
        FAIL_CHECK(message);
        return;
      }
    }
  }
  CHECK(autograd::tape().size() == 0);
}

}  // namespace birdie::testing
