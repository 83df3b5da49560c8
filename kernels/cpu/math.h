// Scalar activation math shared by the CPU kernels (the GPU kernels mirror these forms).
#pragma once

#include <cmath>
#include <numbers>

namespace birdie::kernels::cpu {

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Exact GeLU: x · Φ(x).
template <class T>
T gelu(T x) {
  return T(0.5) * x * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
}

// d/dx [x · Φ(x)] = Φ(x) + x · φ(x).
template <class T>
T gelu_derivative(T x) {
  const T cdf = T(0.5) * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
  const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
  return cdf + x * pdf;
}

}  // namespace birdie::kernels::cpu
