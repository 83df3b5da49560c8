#include "kernels/matmul.h"

#include "kernels/cpu/matmul.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

Shape matmul_output_shape(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b) {
  BIRDIE_CHECK((a.rank() == 2 || a.rank() == 3) && a.rank() == b.rank(),
               "matmul: operands must both be rank 2 or both rank 3, got ", a.describe(), " and ",
               b.describe());
  BIRDIE_CHECK(a.rank() == 2 || a.dim(0) == b.dim(0), "matmul: batch sizes differ, ",
               a.describe(), " and ", b.describe());
  BIRDIE_CHECK(a.dtype() == b.dtype(), "matmul: dtypes differ, ", a.describe(), " and ",
               b.describe());
  const std::int64_t m = trans_a ? a.dim(-1) : a.dim(-2);
  const std::int64_t ka = trans_a ? a.dim(-2) : a.dim(-1);
  const std::int64_t kb = trans_b ? b.dim(-1) : b.dim(-2);
  const std::int64_t n = trans_b ? b.dim(-2) : b.dim(-1);
  BIRDIE_CHECK(ka == kb, "matmul: inner dimensions differ (", ka, " vs ", kb, ") for ",
               a.describe(), (trans_a ? "ᵀ" : ""), " × ", b.describe(), (trans_b ? "ᵀ" : ""));
  if (a.rank() == 3) return {a.dim(0), m, n};
  return {m, n};
}

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha, double beta) {
  require_same_device("matmul", {&a, &b, &c});
  check_shape(c, matmul_output_shape(a, trans_a, b, trans_b), "matmul output");
  check_dtype(c, a.dtype(), "matmul output");
  if (a.is_cpu()) return cpu::matmul(a, trans_a, b, trans_b, c, alpha, beta);
  no_cuda_kernel("matmul");
}

}  // namespace birdie::kernels
