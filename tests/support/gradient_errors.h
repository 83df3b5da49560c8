// Mixed precision's gradients against a reference model's, parameter by parameter
// (tests/mixed_precision_tests.cpp against f64 on the CPU, cuda_mixed_precision_tests.cpp
// the GPU against the CPU).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>

#include "autograd/parameters.h"

namespace birdie::testing {

// Each gradient of `got` is f32 (the masters', whatever the compute dtype) and within
// `bound` of `want`'s by `relative_error(got, want)`, the suite's own (the GPU suites'
// counts a non-finite element as infinitely far). Returns the worst error, for a MESSAGE.
template <class RelativeError>
double check_master_gradients(const autograd::ParameterSet& got, const autograd::ParameterSet& want, double bound,
                              RelativeError relative_error) {
  double worst = 0;
  for (const auto& spec : want.specs()) {
    CAPTURE(spec.name);
    const Tensor& grad = got[spec.name].grad();
    CHECK(grad.dtype() == DType::f32);
    const double error = relative_error(grad, want[spec.name].grad());
    worst = std::max(worst, error);
    CHECK(error < bound);
  }
  return worst;
}

}  // namespace birdie::testing
