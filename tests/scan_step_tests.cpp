// The generation scan (kernels/scan_step.h) on the CPU with a bf16 proj: widened to f32,
// state in f32, y rounded to bf16, against the f64 path on the same rounded inputs.
#include <doctest/doctest.h>

#include "kernels/scan_step.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
using kernels::ScanDirection;

namespace {
// A bf16 tensor of uniform draws in [-2, 2), and its exact f64 copy.
struct Rounded {
  Tensor bf16, f64;
};
Rounded rounded_proj(const Shape& shape, RandomGenerator& rng) {
  const Tensor bf16 = random_tensor(shape, rng, -2, 2, DType::f32).to(DType::bf16);
  return {bf16, bf16.to(DType::f64)};
}
}  // namespace

TEST_CASE("bf16 proj: final state and chained steps match the f64 path (state f32)") {
  RandomGenerator rng(30);
  const std::int64_t B = 3, T = 21;
  // Segment starts mid-prompt and causal positions, as the packer writes them.
  std::vector<std::int32_t> resets(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b) {
    resets[b * T] = 1;
    resets[b * T + 8 + b] = 1;
    resets[b * T + T - 1] = 2;
  }
  const Tensor reset = Tensor::from_values<std::int32_t>(resets, {B, T});
  for (auto [direction, N] : {std::pair{ScanDirection::causal, std::int64_t(7)},
                              std::pair{ScanDirection::bidirectional, std::int64_t(10)}}) {
    CAPTURE(N);
    const Rounded prompt = rounded_proj({B, T, 4 * N}, rng);
    Tensor state = Tensor::empty({B, N}, DType::f32), state_ref = Tensor::empty({B, N}, DType::f64);
    kernels::gated_scan_final_state(prompt.bf16, reset, direction, state);
    kernels::gated_scan_final_state(prompt.f64, reset, direction, state_ref);
    CHECK(relative_error(state, state_ref) < 1e-6);
    for (int step = 0; step < 4; ++step) {
      CAPTURE(step);
      const Rounded proj = rounded_proj({B, 4 * N}, rng);
      Tensor y = Tensor::empty({B, N}, DType::bf16), y_ref = Tensor::empty({B, N}, DType::f64);
      kernels::gated_scan_step(proj.bf16, state, direction, y);
      kernels::gated_scan_step(proj.f64, state_ref, direction, y_ref);
      CHECK(relative_error(y, y_ref) < 1e-2);
      CHECK(relative_error(state, state_ref) < 1e-6);
    }
  }
}

TEST_CASE("the generation scan rejects a state of the wrong dtype") {
  const Tensor proj = Tensor::zeros({2, 4 * 6}, DType::bf16), prompt = Tensor::zeros({2, 3, 4 * 6}, DType::bf16);
  const Tensor reset = Tensor::zeros({2, 3}, DType::i32);
  Tensor bf16_state = Tensor::zeros({2, 6}, DType::bf16), y = Tensor::empty({2, 6}, DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_step(proj, bf16_state, ScanDirection::causal, y),
                       doctest::Contains("gated_scan_step state (proj's dtype, f32 for a bf16 proj): "
                                         "expected dtype f32, got bf16[2, 6] cpu"),
                       Error);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_final_state(prompt, reset, ScanDirection::causal, bf16_state),
                       doctest::Contains("gated_scan_final_state state (proj's dtype, f32 for a bf16 proj): "
                                         "expected dtype f32, got bf16"),
                       Error);
  Tensor f32_state = Tensor::zeros({2, 6}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_step(proj.to(DType::f64), f32_state, ScanDirection::causal, y),
                       doctest::Contains("expected dtype f64, got f32[2, 6] cpu"), Error);
}
