// Reductions (kernels/reduce.h: sum, sum_of_squares, sum_into, clip_global_norm) and
// scale_inplace by a device scalar.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("reduce");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("sum_into and scale_inplace by a tensor keep scalars in tensors") {
  const Tensor x = Tensor::from_values<float>({1.5f, -2.0f, 4.0f}, {3});
  Tensor out = Tensor::empty({1}, DType::f64);
  kernels::sum_into(x, 0.5, out);
  CHECK(out.item() == 1.75);
  Tensor out32 = Tensor::empty({1}, DType::f32);
  kernels::sum_into(x.to(DType::bf16), 2.0, out32);
  CHECK(out32.item() == 7.0);
  Tensor bad = Tensor::empty({1}, DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::sum_into(x, 1.0, bad), doctest::Contains("f32 or f64"), Error);
  Tensor y = x.clone();
  kernels::scale_inplace(y, Tensor::full({1}, -2.0, DType::f32));
  CHECK(y.to_vector<float>() == std::vector<float>{-3.0f, 4.0f, -8.0f});
  CHECK_THROWS_WITH_AS(kernels::scale_inplace(y, Tensor::full({2}, 1.0, DType::f32)),
                       doctest::Contains("one f32 or f64 element"), Error);
}

TEST_CASE("global norm clipping scales every tensor together and reports the norm") {
  std::vector<Tensor> grads{Tensor::from_values<double>({3.0}, {1}),
                            Tensor::from_values<float>({4.0f, 0.0f}, {2})};
  CHECK(kernels::clip_global_norm(grads, 10.0) == 5.0);  // under the limit: unchanged
  CHECK(grads[0].item() == 3.0);
  CHECK(kernels::clip_global_norm(grads, 1.0) == 5.0);
  CHECK(grads[0].item() == doctest::Approx(0.6));
  CHECK(grads[1].item() == doctest::Approx(0.8));
  std::vector<Tensor> bad{Tensor::from_values<double>({NAN}, {1})};
  CHECK(std::isnan(kernels::clip_global_norm(bad, 1.0)));
  CHECK(kernels::sum(Tensor::from_values<double>({1, 2, 3.5}, {3})) == 6.5);
}

TEST_CASE("sums, sums of squares and global-norm clipping over bf16 tensors") {
  RandomGenerator rng(9);
  const Tensor x = random_bf16({100003}, rng, -1, 2);
  const Tensor sums = Tensor::from_values<double>({kernels::sum(x), kernels::sum_of_squares(x)}, {2});
  const Tensor sums_ref = Tensor::from_values<double>({kernels::sum(wide(x)), kernels::sum_of_squares(wide(x))}, {2});
  check_close("sum and sum_of_squares", sums, sums_ref, f32_bound);

  std::vector<Tensor> tensors{random_bf16({1000}, rng), random_bf16({33}, rng)};
  std::vector<Tensor> tensors_ref{wide(tensors[0]), wide(tensors[1])};
  const double norm = kernels::clip_global_norm(tensors, 1.0);
  const double norm_ref = kernels::clip_global_norm(tensors_ref, 1.0);
  CHECK(norm_ref > 1.0);
  check_close("clip_global_norm norm", Tensor::from_values<double>({norm}, {1}),
              Tensor::from_values<double>({norm_ref}, {1}), f32_bound);
  for (int i = 0; i < 2; ++i) check_close("clip_global_norm scaled tensors", tensors[i], tensors_ref[i], bf16_bound);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

namespace {
// Σ x and Σ x² on the GPU against the f64 CPU sums (both accumulate in double: the
// difference is ~1e-16 relative, far inside the bound).
void check_reductions(const Tensor& x) {
  const Tensor x64 = as_f64_cpu(x);
  const Tensor xg = x.to(Device::cuda);
  CHECK(std::abs(kernels::sum(xg) - kernels::sum(x64)) <= 1e-9 * std::abs(kernels::sum(x64)));
  CHECK(std::abs(kernels::sum_of_squares(xg) - kernels::sum_of_squares(x64)) <=
        1e-9 * kernels::sum_of_squares(x64));
}
}  // namespace

TEST_CASE("sum, sum of squares and global-norm clipping") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 70 : 71);
    const Tensor x = random_cpu({100003}, dtype, rng, -1.0, 2.0);
    check_reductions(x);
  }
  RandomGenerator rng(72);
  std::vector<Tensor> cpu{random_cpu({1000}, DType::f64, rng), random_cpu({33}, DType::f64, rng)};
  std::vector<Tensor> gpu{cpu[0].to(DType::f32).to(Device::cuda), cpu[1].to(DType::f32).to(Device::cuda)};
  const double norm_ref = kernels::clip_global_norm(cpu, 1.0);
  const double norm = kernels::clip_global_norm(gpu, 1.0);
  CHECK(std::abs(norm - norm_ref) < 1e-6 * norm_ref);
  CHECK(norm_ref > 1.0);
  for (int i = 0; i < 2; ++i) check_close(gpu[i], cpu[i], fp32_tolerance, "clipped tensor");
}

TEST_CASE("device scalars: sum_into and scale_inplace by a tensor never leave the GPU") {
  RandomGenerator rng(91);
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    const Tensor x = random_cpu({70001}, dtype, rng);
    Tensor out = poisoned_cuda({1}, DType::f32);
    kernels::sum_into(x.to(Device::cuda), 0.25, out);
    // The GPU sums in f32 in its own order: against the exact sum, its error is bounded by
    // about log2(n) roundings of the magnitudes summed, 17 x 2^-24 x sum|x| < 1e-6 sum|x|
    // (a relative bound on the sum itself fails when the terms cancel: seen on an H200,
    // -8.54196 against -8.54199, 3.5e-6 of the sum and 2e-8 of the magnitudes).
    const std::vector<double> values = as_f64_cpu(x).to_vector<double>();
    double magnitudes = 0;
    for (double v : values) magnitudes += std::abs(v);
    CHECK(std::abs(out.item() - 0.25 * kernels::sum(x)) <= 1e-6 * 0.25 * magnitudes);
    Tensor y = x.to(Device::cuda);
    kernels::scale_inplace(y, Tensor::full({1}, -1.5, DType::f32, Device::cuda));
    Tensor expected = x.clone();
    kernels::scale_inplace(expected, -1.5);
    CHECK(relative_error(y, as_f64_cpu(expected)) == 0.0);
  }
}

TEST_CASE("reductions going round their 512-block grid, and column sums wider than a block") {
  // The partial sums run a fixed 512 blocks of 256 threads (131072 elements per sweep).
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 170 : 171);
    const Tensor x = random_cpu({3 * 131072 + 17}, dtype, rng, -1.0, 2.0);
    check_reductions(x);  // ~4e5 terms: still ~1e-16 relative either way
  }
  // sum_to_trailing: 300 columns over 2 blocks of 256 threads, 64 row splits.
  RandomGenerator rng(172);
  const Tensor in = random_cpu({16411, 300}, DType::bf16, rng);
  Tensor sum = poisoned_cuda({300}, DType::f32), sum_ref = Tensor::empty({300}, DType::f64);
  kernels::sum_to_trailing(in.to(Device::cuda), sum);
  kernels::sum_to_trailing(as_f64_cpu(in), sum_ref);
  // 16411 terms in f32 (in 64 partial sums of ~257): ~1e-6 of the result's scale.
  check_close(sum, sum_ref, fp32_tolerance, "column sums (bf16 into f32)");
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
