// Column blocks (kernels/columns.h): kernels::copy_columns, which the tests and apps/bench
// use to cut fused fixtures apart. (Its GPU case is in tests/cuda_hawk_step_tests.cpp.)
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include "kernels/columns.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("columns");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("copy_columns: a block of columns, every row, other columns untouched; bad ranges named") {
  RandomGenerator rng(4);
  const Tensor src = random_tensor({2, 3, 7}, rng);
  Tensor dst = Tensor::zeros({2, 3, 5}, DType::f64);
  kernels::copy_columns(src, 3, dst, 1, 4);
  for (std::int64_t row = 0; row < 6; ++row)
    for (std::int64_t j = 0; j < 5; ++j) {
      CAPTURE(row);
      CAPTURE(j);
      CHECK(dst.item(row * 5 + j) == (j == 0 ? 0.0 : src.item(row * 7 + 3 + j - 1)));
    }
  kernels::copy_columns(src, 0, dst, 0, 0);  // an empty block is a no-op
  CHECK(dst.item(0) == 0.0);
  CHECK_THROWS_WITH_AS(kernels::copy_columns(src, 5, dst, 0, 3), doctest::Contains("columns [5, 8) of f64[2, 3, 7]"),
                       Error);
  Tensor other_rows = Tensor::zeros({3, 3, 5}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::copy_columns(src, 0, other_rows, 0, 2), doctest::Contains("differ in rows"), Error);
  Tensor f32 = Tensor::zeros({2, 3, 5}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::copy_columns(src, 0, f32, 0, 2), doctest::Contains("copy_columns destination"), Error);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
