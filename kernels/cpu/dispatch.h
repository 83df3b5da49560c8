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

}  // namespace birdie::kernels::cpu
