#include "kernels/cpu/matmul.h"

#include <cblas.h>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

namespace {

struct GemmGeometry {
  std::int64_t batch, m, n, k;
};

GemmGeometry geometry(const Tensor& a, bool trans_a, const Tensor& c) {
  const bool batched = c.rank() == 3;
  const std::int64_t batch = batched ? c.dim(0) : 1;
  const std::int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
  return {batch, c.dim(-2), c.dim(-1), k};
}

// Plain triple loop in double precision: the reference the gradient checks rely on.
void gemm_loops(const double* a, bool ta, const double* b, bool tb, double* c, std::int64_t m,
                std::int64_t n, std::int64_t k, double alpha, double beta) {
#pragma omp parallel for if (m * n * k > parallel_threshold)
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double av = ta ? a[p * m + i] : a[i * k + p];
        const double bv = tb ? b[j * k + p] : b[p * n + j];
        acc += av * bv;
      }
      double& out = c[i * n + j];
      out = alpha * acc + (beta == 0.0 ? 0.0 : beta * out);
    }
  }
}

}  // namespace

void matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b, Tensor& c,
            double alpha, double beta) {
  const GemmGeometry g = geometry(a, trans_a, c);
  const std::int64_t a_stride = g.m * g.k, b_stride = g.k * g.n, c_stride = g.m * g.n;
  if (a.dtype() == DType::f32) {
    for (std::int64_t i = 0; i < g.batch; ++i) {
      if (g.m == 0 || g.n == 0) continue;
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                  trans_b ? CblasTrans : CblasNoTrans, g.m, g.n, g.k, static_cast<float>(alpha),
                  a.data<float>() + i * a_stride, trans_a ? g.m : g.k,
                  b.data<float>() + i * b_stride, trans_b ? g.k : g.n, static_cast<float>(beta),
                  c.data<float>() + i * c_stride, g.n);
    }
    return;
  }
  BIRDIE_CHECK(a.dtype() == DType::f64, "matmul: the CPU kernel takes f32 or f64 tensors, got ",
               a.describe());
  for (std::int64_t i = 0; i < g.batch; ++i)
    gemm_loops(a.data<double>() + i * a_stride, trans_a, b.data<double>() + i * b_stride, trans_b,
               c.data<double>() + i * c_stride, g.m, g.n, g.k, alpha, beta);
}

}  // namespace birdie::kernels::cpu
