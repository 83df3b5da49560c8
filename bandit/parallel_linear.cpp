#include "bandit/parallel_linear.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "autograd/ops.h"
#include "autograd/ops/grad_buffer.h"
#include "autograd/tape.h"

namespace birdie::bandit {

namespace {

// Calls part(begin, end) for the thread's share of [0, size).
template <class Part>
void split(std::int64_t size, Part part) {
  const std::int64_t threads = std::max(1, omp_in_parallel() ? 1 : omp_get_max_threads());
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t t = 0; t < threads; ++t) {
    const std::int64_t begin = size * t / threads, end = size * (t + 1) / threads;
    if (end > begin) part(begin, end);
  }
}

}  // namespace

Tensor parallel_linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  BIRDIE_CHECK(weight.rank() == 2 && x.rank() >= 1 && x.dim(-1) == weight.dim(1),
               "parallel_linear: input ", x.describe(), " does not match weight ", weight.describe());
  check_dtype(x, DType::f32, "parallel_linear input");
  check_dtype(weight, DType::f32, "parallel_linear weight");
  BIRDIE_CHECK(x.is_cpu() && weight.is_cpu(), "parallel_linear: CPU tensors only");
  const std::int64_t K = weight.dim(1), N = weight.dim(0), M = x.numel() / K;
  if (bias.defined()) check_shape(bias, {N}, "parallel_linear bias");
  Shape out_shape = x.shape();
  out_shape.back() = N;
  Tensor y = Tensor::empty(out_shape, DType::f32);
  const float* px = x.data<float>();
  const float* pw = weight.data<float>();
  const float* pb = bias.defined() ? bias.data<float>() : nullptr;
  float* py = y.data<float>();
  split(N, [&](std::int64_t n0, std::int64_t n1) {
    if (M > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, n1 - n0, K, 1.0f, px, K, pw + n0 * K, K,
                  0.0f, py + n0, N);
    if (pb)
      for (std::int64_t m = 0; m < M; ++m)
        for (std::int64_t n = n0; n < n1; ++n) py[m * N + n] += pb[n];
  });
  if (autograd::needs_grad({&x, &weight, &bias})) {
    autograd::record("parallel_linear", {x, weight, bias}, {y},
                     [x, weight, bias, M, N, K](const std::vector<Tensor>& grads) {
      const Tensor& dy = grads[0];
      const float* pdy = dy.data<float>();
      const float* px = x.data<float>();
      const float* pw = weight.data<float>();
      if (x.requires_grad()) {  // dX = dY · W
        Tensor dx = Tensor::empty(x.shape(), DType::f32);
        float* pdx = dx.data<float>();
        split(K, [&](std::int64_t k0, std::int64_t k1) {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, k1 - k0, N, 1.0f, pdy, N, pw + k0, K,
                      0.0f, pdx + k0, K);
        });
        autograd::accumulate_fresh_grad(x, dx);
      }
      const Tensor dw = autograd::grad_buffer(weight);
      const Tensor db = bias.defined() ? autograd::grad_buffer(bias) : Tensor();
      if (!dw.defined() && !db.defined()) return;
      float* pdw = dw.defined() ? dw.data<float>() : nullptr;
      float* pdb = db.defined() ? db.data<float>() : nullptr;
      split(N, [&](std::int64_t n0, std::int64_t n1) {  // dW += dYᵀ · X, db += Σ_rows dY
        if (pdw)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, K, M, 1.0f, pdy + n0, N, px, K,
                      1.0f, pdw + n0 * K, K);
        if (pdb)
          for (std::int64_t m = 0; m < M; ++m)
            for (std::int64_t n = n0; n < n1; ++n) pdb[n] += pdy[m * N + n];
      });
    });
  }
  return y;
}

}  // namespace birdie::bandit
