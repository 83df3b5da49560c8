#include "kernels/cpu/reduce.h"

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

namespace {
// Fixed-order blocked reduction: the result does not depend on the thread count, so a
// run is bitwise reproducible on any machine with the same binary. Within a block the sum
// runs in T (vectorized); blocks are added in order in double.
template <class T, class Fn>
double blocked_sum(const T* p, std::int64_t n, Fn term) {
  constexpr std::int64_t block = 4096;
  const std::int64_t blocks = (n + block - 1) / block;
  std::vector<double> partial(blocks, 0.0);
#pragma omp parallel for if (n > parallel_threshold)
  for (std::int64_t b = 0; b < blocks; ++b) {
    T acc = 0;
    const std::int64_t end = std::min(n, (b + 1) * block);
#pragma omp simd reduction(+ : acc)
    for (std::int64_t i = b * block; i < end; ++i) acc += term(p[i]);
    partial[b] = acc;
  }
  double total = 0;
  for (double v : partial) total += v;
  return total;
}
}  // namespace

double sum_of_squares(const Tensor& x) {
  double result = 0;
  dispatch_floating(x, "sum_of_squares", [&](auto zero) {
    using T = decltype(zero);
    result = blocked_sum(x.data<T>(), x.numel(), [](T v) { return v * v; });
  });
  return result;
}

double sum(const Tensor& x) {
  double result = 0;
  dispatch_floating(x, "sum", [&](auto zero) {
    using T = decltype(zero);
    result = blocked_sum(x.data<T>(), x.numel(), [](T v) { return v; });
  });
  return result;
}

}  // namespace birdie::kernels::cpu
