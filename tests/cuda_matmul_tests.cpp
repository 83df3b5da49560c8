// GPU matrix products (cuBLASLt) against the CPU reference in f64: every transpose
// combination, odd sizes, alpha/beta (beta = 1 accumulation), batches, bf16 operands with
// f32 or bf16 output, and the bias / bias-gradient epilogues.
#include <doctest/doctest.h>

#include "kernels/matmul.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {
namespace {

struct MatmulCase {
  std::int64_t batch, M, N, K;  // batch 0: rank 2
  bool trans_a, trans_b;
  DType ab, c;
  double alpha = 1.0, beta = 0.0;
};

Shape shape_of(std::int64_t batch, std::int64_t rows, std::int64_t cols) {
  return batch ? Shape{batch, rows, cols} : Shape{rows, cols};
}

void check_matmul(const MatmulCase& m, std::uint64_t seed) {
  CAPTURE(m.batch);
  CAPTURE(m.M);
  CAPTURE(m.N);
  CAPTURE(m.K);
  CAPTURE(m.trans_a);
  CAPTURE(m.trans_b);
  CAPTURE(dtype_name(m.ab));
  CAPTURE(dtype_name(m.c));
  CAPTURE(m.beta);
  RandomGenerator rng(seed);
  const Tensor a = random_cpu(m.trans_a ? shape_of(m.batch, m.K, m.M) : shape_of(m.batch, m.M, m.K), m.ab, rng);
  const Tensor b = random_cpu(m.trans_b ? shape_of(m.batch, m.N, m.K) : shape_of(m.batch, m.K, m.N), m.ab, rng);
  const Tensor c0 = random_cpu(shape_of(m.batch, m.M, m.N), m.c, rng);

  Tensor ref = as_f64_cpu(c0);
  kernels::matmul(as_f64_cpu(a), m.trans_a, as_f64_cpu(b), m.trans_b, ref, m.alpha, m.beta);

  // beta = 0 must ignore C entirely (poisoned); beta ≠ 0 starts from c0.
  Tensor c = m.beta == 0.0 ? poisoned_cuda(c0.shape(), m.c) : c0.to(Device::cuda);
  kernels::matmul(a.to(Device::cuda), m.trans_a, b.to(Device::cuda), m.trans_b, c, m.alpha, m.beta);
  // bf16 operands: products are exact in f32, sums accumulate in f32; a bf16 output
  // adds one rounding.
  CHECK(relative_error(c, ref) < (m.ab == DType::bf16 || m.c == DType::bf16 ? bf16_bound : fp32_bound));
}

}  // namespace

TEST_CASE("matmul f32: transposes, odd sizes, alpha and beta") {
  std::uint64_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_matmul({0, 37, 29, 53, ta, tb, DType::f32, DType::f32}, ++seed);
      check_matmul({0, 1, 7, 3, ta, tb, DType::f32, DType::f32}, ++seed);
      check_matmul({0, 64, 48, 130, ta, tb, DType::f32, DType::f32, 0.5, 1.0}, ++seed);
      check_matmul({0, 33, 17, 65, ta, tb, DType::f32, DType::f32, 1.0, 0.25}, ++seed);
    }
}

TEST_CASE("matmul f32 batched (rank 3)") {
  std::uint64_t seed = 50;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check_matmul({3, 19, 23, 31, ta, tb, DType::f32, DType::f32}, ++seed);
}

TEST_CASE("matmul bf16 operands, f32 and bf16 outputs, accumulation into f32") {
  std::uint64_t seed = 80;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_matmul({0, 72, 40, 256, ta, tb, DType::bf16, DType::f32}, ++seed);
      check_matmul({0, 72, 40, 256, ta, tb, DType::bf16, DType::bf16}, ++seed);
      check_matmul({0, 64, 32, 96, ta, tb, DType::bf16, DType::f32, 1.0, 1.0}, ++seed);
      check_matmul({0, 37, 29, 53, ta, tb, DType::bf16, DType::f32}, ++seed);  // unaligned rows
    }
  check_matmul({2, 48, 40, 64, false, true, DType::bf16, DType::bf16}, 99);
}

TEST_CASE("matmul epilogues: bias and bias gradient") {
  std::uint64_t seed = 120;
  for (DType ab : {DType::f32, DType::bf16})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(dtype_name(ab));
        CAPTURE(ta);
        CAPTURE(tb);
        RandomGenerator rng(++seed);
        const std::int64_t M = 40, N = 24, K = 72;
        const Tensor a = random_cpu(ta ? Shape{K, M} : Shape{M, K}, ab, rng);
        const Tensor b = random_cpu(tb ? Shape{N, K} : Shape{K, N}, ab, rng);
        const Tensor bias = random_cpu({N}, ab, rng);
        const Tensor c0 = random_cpu({M, N}, ab, rng);
        const double bound = bound_for(ab);

        // Bias, with beta = 1 accumulation.
        Tensor ref = as_f64_cpu(c0);
        kernels::matmul_fused(as_f64_cpu(a), ta, as_f64_cpu(b), tb, ref, {as_f64_cpu(bias), {}}, 1.0, 1.0);
        Tensor c = c0.to(Device::cuda);
        kernels::matmul_fused(a.to(Device::cuda), ta, b.to(Device::cuda), tb, c,
                              {bias.to(Device::cuda), {}}, 1.0, 1.0);
        CHECK(relative_error(c, ref) < bound);

        // Bias gradient: Σ_k op(A)[i, k].
        Tensor grad_ref = Tensor::empty({M}, DType::f64);
        Tensor ref2 = Tensor::empty({M, N}, DType::f64);
        kernels::matmul_fused(as_f64_cpu(a), ta, as_f64_cpu(b), tb, ref2, {{}, grad_ref});
        Tensor c2 = poisoned_cuda({M, N}, ab);
        Tensor grad = poisoned_cuda({M}, ab);
        kernels::matmul_fused(a.to(Device::cuda), ta, b.to(Device::cuda), tb, c2, {{}, grad});
        CHECK(relative_error(c2, ref2) < bound);
        CHECK(relative_error(grad, grad_ref) < bound);
      }
}

}  // namespace birdie::testing
