// Helpers shared by the CPU reference kernels.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace birdie::kernels::cpu {

// Calls fn(T{}) with T = float or double according to t's dtype; other dtypes throw,
// naming the op.
template <class Fn>
void dispatch_floating(const Tensor& t, const char* op, Fn&& fn) {
  switch (t.dtype()) {
    case DType::f32: fn(float{}); return;
    case DType::f64: fn(double{}); return;
    default:
      throw Error(detail::concat(op, ": the CPU kernel takes f32 or f64 tensors, got ",
                                 t.describe()));
  }
}

// Loops below this many elements run on one thread: starting OpenMP costs more.
constexpr std::int64_t parallel_threshold = 1 << 14;

// Calls fn(i) for i in [0, n), spread over OpenMP threads when the loop
// touches more than parallel_threshold elements (`work`).
template <class Fn>
void parallel_for(std::int64_t n, std::int64_t work, Fn&& fn) {
#pragma omp parallel for if (work > parallel_threshold)
  for (std::int64_t i = 0; i < n; ++i) fn(i);
}

// The first element of row b along t's first dimension (a batch row), as F.
template <class F>
F* batch_row(const Tensor& t, std::int64_t b) {
  return t.data<F>() + b * (t.numel() / t.dim(0));
}

}  // namespace birdie::kernels::cpu
