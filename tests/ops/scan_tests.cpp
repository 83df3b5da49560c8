// The gated scan (kernels/scan.h, autograd::gated_scan): gradients and bf16. Its CPU
// reference and GPU parity cases: tests/scan_tests.cpp and tests/cuda_scan_tests.cpp.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <vector>

#include "kernels/scan.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("scan");
using doctest::Contains;
using kernels::ScanDirection;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

namespace {
// Pre-activations for the scan. forget_logit shifts the forget gates: σ(6.9) ≈ 0.999 keeps
// state nearly forever, σ(-9) ≈ 0.0001 forgets at once.
Tensor scan_proj(RandomGenerator& rng, std::int64_t B, std::int64_t T, std::int64_t N,
                 double forget_logit) {
  Tensor p = random_tensor({B, T, 4 * N}, rng, -1.5, 1.5);
  double* v = p.data<double>();
  for (std::int64_t r = 0; r < B * T; ++r)
    for (std::int64_t c = 0; c < N; ++c) v[r * 4 * N + N + c] += forget_logit;
  return p;
}
}  // namespace

TEST_CASE("gradient: gated scan, both directions, resets mid-row, gates near 1 and near 0") {
  RandomGenerator rng(17);
  struct Case {
    std::int64_t B, T, N;
    std::vector<std::int32_t> reset;
  };
  const std::vector<Case> cases{
      {1, 1, 2, {3}},
      {1, 7, 2, {1, 0, 0, 2, 2, 2, 2}},
      // Two samples in a row, the second with an empty prompt (reset 3), then padding.
      {2, 9, 6, {1, 0, 2, 2, 3, 2, 2, 1, 0, /* row 2 */ 1, 0, 0, 0, 0, 2, 2, 2, 2}},
      {1, 11, 10, {1, 0, 0, 0, 2, 2, 1, 0, 2, 2, 2}},
  };
  for (const Case& c : cases)
    for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional})
      for (double forget_logit : {0.0, 6.9, -9.0}) {
        CAPTURE(c.T);
        CAPTURE(c.N);
        CAPTURE(int(direction));
        CAPTURE(forget_logit);
        Tensor reset = Tensor::from_values<std::int32_t>(c.reset, {c.B, c.T});
        check_gradients(
            [&](const Inputs& in) { return weighted_sum(ag::gated_scan(in[0], in[1], direction)); },
            {scan_proj(rng, c.B, c.T, c.N, forget_logit), reset});
      }
}

TEST_CASE("gated scan in bf16: both directions, resets mid-row, forget gates at 0.999") {
  RandomGenerator rng(8);
  const std::int64_t B = 2, T = 37, N = 10;
  std::vector<std::int32_t> reset_values(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b) {
    reset_values[b * T] = 1;
    reset_values[b * T + 11] = 1;  // a segment start
    reset_values[b * T + 20] = 3;  // a sample with an empty prompt
    for (std::int64_t t = 21; t < 26; ++t) reset_values[b * T + t] = 2;  // its suffix
  }
  const Tensor reset = Tensor::from_values<std::int32_t>(reset_values, {B, T});
  for (bool gates_near_one : {false, true})
    for (ScanDirection direction : {ScanDirection::causal, ScanDirection::bidirectional}) {
      CAPTURE(gates_near_one);
      CAPTURE(static_cast<int>(direction));
      Tensor proj32 = random_tensor({B, T, 4 * N}, rng, -2, 2, DType::f32);
      if (gates_near_one)
        for (std::int64_t r = 0; r < B * T; ++r)
          for (std::int64_t c = 0; c < N; ++c)
            proj32.data<float>()[r * 4 * N + N + c] = static_cast<float>(std::log(0.999 / 0.001));
      const Tensor proj = proj32.to(DType::bf16), dy = random_bf16({B, T, N}, rng);
      Tensor y_ref = Tensor::empty({B, T, N}, DType::f64), dproj_ref = Tensor::empty(proj.shape(), DType::f64);
      const Tensor states = kernels::gated_scan_forward(wide(proj), reset, direction, y_ref);
      kernels::gated_scan_backward(wide(proj), reset, direction, states, wide(dy), dproj_ref);

      Tensor y = poisoned({B, T, N}, DType::bf16), dproj = poisoned(proj.shape(), DType::bf16);
      const Tensor saved = kernels::gated_scan_forward(proj, reset, direction, y);
      CHECK(saved.dtype() == DType::f32);  // the states stay in f32, as on the GPU
      kernels::gated_scan_backward(proj, reset, direction, saved, dy, dproj);
      check_close("gated_scan y", y, y_ref, bf16_bound);
      check_close("gated_scan dproj", dproj, dproj_ref, bf16_bound);
    }
  const Tensor proj = random_bf16({1, 4, 8}, rng);
  Tensor y = Tensor::empty({1, 4, 2}, DType::bf16);
  const Tensor saved = kernels::gated_scan_forward(proj, Tensor::zeros({1, 4}, DType::i32), ScanDirection::causal, y);
  Tensor dproj = Tensor::empty({1, 4, 8}, DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_backward(proj, Tensor::zeros({1, 4}, DType::i32), ScanDirection::causal,
                                                    saved, y.to(DType::f32), dproj),
                       Contains("gated_scan_backward"), Error);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_backward(proj, Tensor::zeros({1, 4}, DType::i32), ScanDirection::causal,
                                                    saved.to(DType::bf16), y, dproj),
                       Contains("gated_scan_backward saved"), Error);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
