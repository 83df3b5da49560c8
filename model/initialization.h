// Initialization by parameter name (docs/method.md §5), shared by every architecture:
// "*norm.weight" 1, "*.bias" 0, the embedding truncated normal with std 1 (its input is
// one-hot: fan-in 1), every other matrix truncated normal with std 1/sqrt(fan_in) (its
// second dimension), "*out_proj.weight" (each residual branch's last projection) further
// scaled by 1/sqrt(2·layers). An architecture gives its own values for the parameters these
// rules do not fit (the Gated SSM's spread forget biases, Hawk's recurrence and
// convolution). Drawn in registry order by the CPU fills of engine/random.h (computed in
// f64, rounded once to the parameters' dtype, on all OpenMP threads with the same bits for
// any number of them), straight into the flat buffer when it is f32 or f64 on the CPU, else
// through a CPU staging buffer: every dtype and device starts from the same numbers.
#pragma once

#include <functional>
#include <optional>

#include "autograd/parameters.h"
#include "engine/random.h"

namespace birdie::model {

// A parameter's own start: `values` (f64 on the CPU, the parameter's shape) when defined,
// else a truncated normal with standard deviation `std`.
struct OwnInitialValue {
  Tensor values;
  double std = 0;
};
// The own start of a parameter, or none for the rules above.
using OwnInitialValues = std::function<std::optional<OwnInitialValue>(const autograd::ParameterSpec&)>;

void initialize_parameters(autograd::ParameterSet& parameters, std::int64_t layers, RandomGenerator& rng,
                           const OwnInitialValues& own = {});

// Values [n] (f64 on the CPU) spread over each half of the n channels, as the recurrences
// start theirs (a bidirectional block's halves alike): channel k gets value(u) with u
// running evenly from 0 to 1 across its half (across all n when n is odd; 0 when n is 1).
Tensor spread_over_halves(std::int64_t n, const std::function<double(double u)>& value);

}  // namespace birdie::model
