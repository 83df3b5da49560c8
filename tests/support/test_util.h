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

// Central differences of loss() with respect to values[0..n) against `analytic`: returns
// a description of the first element where |analytic − numeric| > atol + rtol · |numeric|,
// or an empty string when all agree.
inline std::string first_gradient_mismatch(const std::function<double()>& loss, double* values,
                                           const std::vector<double>& analytic, double rtol,
                                           double atol, double step) {
  autograd::NoGradGuard no_grad;
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    const double saved = values[i];
    values[i] = saved + step;
    const double plus = loss();
    values[i] = saved - step;
    const double minus = loss();
    values[i] = saved;
    const double numeric = (plus - minus) / (2 * step);
    if (std::abs(analytic[i] - numeric) > atol + rtol * std::abs(numeric)) {
      char message[160];
      std::snprintf(message, sizeof message, "element %zu: analytic %.12g vs numeric %.12g", i,
                    analytic[i], numeric);
      return message;
    }
  }
  return {};
}

// Compares the tape's gradients of loss_fn(inputs) with central differences, in f64, for
// every element of every f64 input (integer inputs are passed through untouched).
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& loss_fn,
                            std::vector<Tensor> inputs, double rtol = 1e-6, double atol = 1e-8,
                            double step = 1e-6) {
  for (Tensor& t : inputs)
    if (t.dtype() == DType::f64) {
      t.set_requires_grad(true);
      t.set_grad(Tensor());
    }
  autograd::backward(loss_fn(inputs));
  CHECK(autograd::tape().size() == 0);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].dtype() != DType::f64) continue;
    REQUIRE_MESSAGE(inputs[k].grad().defined(), "input ", k, " received no gradient");
    const std::string mismatch =
        first_gradient_mismatch([&] { return loss_fn(inputs).item(); }, inputs[k].data<double>(),
                                inputs[k].grad().to_vector<double>(), rtol, atol, step);
    CHECK_MESSAGE(mismatch.empty(), "input ", k, " ", mismatch);
  }
}

}  // namespace birdie::testing
