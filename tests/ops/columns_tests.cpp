// Column blocks (kernels/columns.h): autograd::split_last and autograd::concat_last, which
// Hawk's temporal block uses to cut its fused projection apart and to put the RG-LRU's
// input together. (On the GPU they run inside the Hawk model suites.)
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <vector>

#include "autograd/ops.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("columns");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("split_last and concat_last: values and gradients (f64 finite differences)") {
  RandomGenerator rng(4);
  const Tensor x = random_tensor({2, 3, 7}, rng), a = random_tensor({2, 3, 2}, rng), b = random_tensor({2, 3, 5}, rng);
  const auto parts = autograd::split_last(x, {3, 0, 4});
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].shape() == Shape{2, 3, 3});
  CHECK(parts[2].item(2 * 4 + 1) == x.item(2 * 7 + 3 + 1));  // row 2 (of 6), column 1 of the last part
  const Tensor joined = autograd::concat_last({parts[0], parts[1], parts[2]});
  CHECK(max_abs_difference(joined, x) == 0.0);
  CHECK_THROWS_WITH_AS(autograd::split_last(x, {3, 3}), doctest::Contains("widths sum to 6"), Error);
  check_gradients(
      [](const std::vector<Tensor>& in) {
        const auto p = autograd::split_last(in[0], {4, 3});
        // The parts used unevenly (one twice, one through a product) so every column counts.
        return weighted_sum(autograd::concat_last({p[1], in[1], autograd::mul(p[0], p[0]), in[2], p[1]}));
      },
      {x, a, b});
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
