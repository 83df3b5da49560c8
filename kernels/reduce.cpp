#include "kernels/reduce.h"

#include <cmath>

#include "kernels/cpu/reduce.h"
#include "kernels/device_dispatch.h"
#include "kernels/elementwise.h"

namespace birdie::kernels {

double sum_of_squares(const Tensor& x) {
  if (x.is_cpu()) return cpu::sum_of_squares(x);
  no_cuda_kernel("sum_of_squares");
}

double sum(const Tensor& x) {
  if (x.is_cpu()) return cpu::sum(x);
  no_cuda_kernel("sum");
}

double clip_global_norm(std::span<Tensor> tensors, double max_norm) {
  double squares = 0;
  for (const Tensor& t : tensors) squares += sum_of_squares(t);
  const double norm = std::sqrt(squares);
  if (std::isfinite(norm) && max_norm > 0 && norm > max_norm)
    for (Tensor& t : tensors) scale_inplace(t, max_norm / norm);
  return norm;
}

}  // namespace birdie::kernels
