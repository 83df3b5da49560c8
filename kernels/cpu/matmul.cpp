#include "kernels/cpu/matmul.h"

#include <cblas.h>
#include <omp.h>

#include <mutex>

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

// OpenBLAS's own thread pool spins against OpenMP's when both are active (measured on 2
// cores: a small training step took twice as long), so OpenBLAS runs single-threaded and
// each product is split across the OpenMP threads here, by output columns or rows.
// The split depends only on the thread count, so results are reproducible.
void sgemm_split(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                 const float* a, const float* b, float beta, float* c) {
  static std::once_flag single_threaded_blas;
  std::call_once(single_threaded_blas, [] { openblas_set_num_threads(1); });
  const int threads = omp_in_parallel() || 2 * m * n * k < (1 << 22) ? 1 : omp_get_max_threads();
  const bool by_columns = n >= m;
  const std::int64_t extent = by_columns ? n : m;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int t = 0; t < threads; ++t) {
    const std::int64_t begin = extent * t / threads, end = extent * (t + 1) / threads;
    if (end == begin) continue;
    const float* a_part = a;
    const float* b_part = b;
    float* c_part = c;
    std::int64_t rows = m, cols = n;
    if (by_columns) {
      b_part = tb ? b + begin * k : b + begin;  // columns [begin, end) of op(B)
      c_part = c + begin;
      cols = end - begin;
    } else {
      a_part = ta ? a + begin : a + begin * k;  // rows [begin, end) of op(A)
      c_part = c + begin * n;
      rows = end - begin;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, rows, cols, k,
                alpha, a_part, ta ? m : k, b_part, tb ? k : n, beta, c_part, n);
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
      sgemm_split(trans_a, trans_b, g.m, g.n, g.k, static_cast<float>(alpha), a.data<float>() + i * a_stride,
                  b.data<float>() + i * b_stride, static_cast<float>(beta), c.data<float>() + i * c_stride);
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
