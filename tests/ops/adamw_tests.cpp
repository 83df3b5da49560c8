// AdamW (kernels/adamw.h): the bias-corrected update, decay segments, grad_scale, the
// bf16 compute copy of the parameters.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/adamw.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("adamw");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("AdamW: bias-corrected update, decoupled decay only where flagged") {
  Tensor p = Tensor::from_values<double>({1.0, -2.0, 0.5}, {3});
  Tensor g = Tensor::from_values<double>({0.1, 0.2, -0.3}, {3});
  Tensor m = Tensor::zeros({3}, DType::f64), v = Tensor::zeros({3}, DType::f64);
  kernels::AdamWHyper h{0.01, 0.9, 0.95, 1e-8, 0.1, 1};
  const std::vector<kernels::DecaySegment> segments{{0, 2, true}, {2, 1, false}};
  const auto p0 = p.to_vector<double>(), gv = g.to_vector<double>();
  std::vector<double> mm(3, 0), vv(3, 0), expected = p0;
  for (int step = 1; step <= 2; ++step) {
    h.step = step;
    kernels::adamw_step(p, g, m, v, segments, h);
    for (int i = 0; i < 3; ++i) {
      mm[i] = 0.9 * mm[i] + 0.1 * gv[i];
      vv[i] = 0.95 * vv[i] + 0.05 * gv[i] * gv[i];
      const double mh = mm[i] / (1 - std::pow(0.9, step)), vh = vv[i] / (1 - std::pow(0.95, step));
      if (i < 2) expected[i] -= 0.01 * 0.1 * expected[i];
      expected[i] -= 0.01 * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  for (int i = 0; i < 3; ++i) CHECK(p.item(i) == doctest::Approx(expected[i]).epsilon(1e-14));
  const std::vector<kernels::DecaySegment> gap{{0, 2, true}};
  CHECK_THROWS_WITH_AS(kernels::adamw_step(p, g, m, v, gap, h), doctest::Contains("segments cover 2 of 3"),
                       Error);
}

// An optimizer prepares its segments once (on a GPU their table is uploaded then, never in
// a step): they are checked when prepared, and a step only checks they fit its buffer.
TEST_CASE("AdamW's segments are checked when prepared, and the update with them is the same") {
  CHECK_THROWS_WITH_AS(kernels::AdamWSegments({{0, 2, true}}, 3, Device::cpu),
                       doctest::Contains("segments cover 2 of 3"), Error);
  CHECK_THROWS_WITH_AS(kernels::AdamWSegments({{1, 2, true}}, 3, Device::cpu),
                       doctest::Contains("segment at offset 1 expected at 0"), Error);
  const std::vector<kernels::DecaySegment> list{{0, 2, true}, {2, 1, false}};
  const kernels::AdamWSegments prepared(list, 3, Device::cpu);
  CHECK(prepared.segments().size() == 2);
  CHECK_FALSE(prepared.device_table().defined());  // the CPU walks the segments themselves

  Tensor p = Tensor::from_values<double>({1.0, -2.0, 0.5}, {3});
  const Tensor g = Tensor::from_values<double>({0.1, 0.2, -0.3}, {3});
  Tensor m = Tensor::zeros({3}, DType::f64), v = Tensor::zeros({3}, DType::f64);
  Tensor p2 = p.clone(), m2 = m.clone(), v2 = v.clone();
  const kernels::AdamWHyper h{0.01, 0.9, 0.95, 1e-8, 0.1, 1};
  kernels::adamw_step(p, g, m, v, list, h);
  Tensor status = Tensor::zeros({kernels::adamw_status::size}, DType::f64);
  status.data<double>()[kernels::adamw_status::squares] = kernels::sum_of_squares(g);
  kernels::adamw_decide(status, h.beta1, h.beta2, 0.0);
  kernels::adamw_step(p2, g, m2, v2, prepared, h, status);
  CHECK(std::memcmp(p.raw_data(), p2.raw_data(), p.nbytes()) == 0);
  CHECK(std::memcmp(v.raw_data(), v2.raw_data(), v.nbytes()) == 0);

  const kernels::AdamWSegments other({{0, 2, true}}, 2, Device::cpu);
  CHECK_THROWS_WITH_AS(kernels::adamw_step(p2, g, m2, v2, other, h, status),
                       doctest::Contains("the segments were prepared for 2 elements on cpu"), Error);
}

TEST_CASE("AdamW's grad_scale equals scaling the gradient first") {
  RandomGenerator rng(6);
  Tensor p0 = random_tensor({50}, rng), g = random_tensor({50}, rng);
  const std::vector<kernels::DecaySegment> segments{{0, 50, true}};
  Tensor p_folded = p0.clone(), p_scaled = p0.clone();
  Tensor m1 = Tensor::zeros({50}, DType::f64), v1 = Tensor::zeros({50}, DType::f64);
  Tensor m2 = Tensor::zeros({50}, DType::f64), v2 = Tensor::zeros({50}, DType::f64);
  kernels::AdamWHyper folded{1e-2, 0.9, 0.95, 1e-8, 0.1, 1, 0.25};
  kernels::adamw_step(p_folded, g, m1, v1, segments, folded);
  Tensor g_scaled = g.clone();
  kernels::scale_inplace(g_scaled, 0.25);
  kernels::AdamWHyper plain{1e-2, 0.9, 0.95, 1e-8, 0.1, 1, 1.0};
  kernels::adamw_step(p_scaled, g_scaled, m2, v2, segments, plain);
  CHECK(max_abs_difference(p_folded, p_scaled) < 1e-15);
  CHECK(max_abs_difference(m1, m2) < 1e-15);
}

TEST_CASE("adamw_step writes the bf16 compute copy of the new parameters") {
  RandomGenerator rng(11);
  const std::int64_t n = 100;
  Tensor p = Tensor::empty({n}, DType::f32), g = Tensor::empty({n}, DType::f32);
  fill_uniform(p, rng, -1, 1);
  fill_uniform(g, rng, -1, 1);
  Tensor m = Tensor::zeros({n}, DType::f32), v = Tensor::zeros({n}, DType::f32);
  Tensor p2 = p.clone(), m2 = m.clone(), v2 = v.clone();
  const std::vector<kernels::DecaySegment> segments{{0, 60, true}, {60, 40, false}};
  const kernels::AdamWHyper hyper{1e-2, 0.9, 0.95, 1e-8, 0.1, 1};
  Tensor copy = Tensor::empty({n}, DType::bf16);
  kernels::adamw_step(p, g, m, v, segments, hyper, &copy);
  kernels::adamw_step(p2, g, m2, v2, segments, hyper);
  CHECK(p.to_vector<float>() == p2.to_vector<float>());  // the copy changes nothing else
  const auto values = p.to_vector<float>();
  const auto* bits = copy.data<bfloat16>();
  for (std::int64_t i = 0; i < n; ++i) CHECK(bits[i].bits == bfloat16::from_float(values[i]).bits);
  Tensor wrong = Tensor::empty({n}, DType::f32);
  CHECK_THROWS_AS(kernels::adamw_step(p, g, m, v, segments, hyper, &wrong), Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

namespace {
// AdamW on the GPU (with the bf16 compute copy) against the f64 reference on the CPU.
void check_adamw(std::int64_t n, const std::vector<kernels::DecaySegment>& segments,
                 const kernels::AdamWHyper& hyper, RandomGenerator& rng) {
  Tensor p = random_cpu({n}, DType::f32, rng), g = random_cpu({n}, DType::f32, rng);
  Tensor m = random_cpu({n}, DType::f32, rng, -0.1, 0.1), v = random_cpu({n}, DType::f32, rng, 0.0, 0.01);
  Tensor p_ref = as_f64_cpu(p), m_ref = as_f64_cpu(m), v_ref = as_f64_cpu(v);
  kernels::adamw_step(p_ref, as_f64_cpu(g), m_ref, v_ref, segments, hyper);
  Tensor pg = p.to(Device::cuda), mg = m.to(Device::cuda), vg = v.to(Device::cuda);
  Tensor copy = poisoned_cuda({n}, DType::bf16);
  kernels::adamw_step(pg, g.to(Device::cuda), mg, vg, segments, hyper, &copy);
  // f64 arithmetic per element, one rounding to f32 (two for p): far inside fp32.
  check_close(pg, p_ref, fp32_tolerance, "params");
  check_close(mg, m_ref, fp32_tolerance, "m");
  check_close(vg, v_ref, fp32_tolerance, "v");
  // The compute copy is exactly the round-to-nearest-even of the new master weights.
  const std::vector<float> master = pg.to_vector<float>();
  const Tensor copy_host = copy.to(Device::cpu);
  const bfloat16* bits = copy_host.data<bfloat16>();
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < n; ++i) mismatches += bits[i].bits != bfloat16::from_float(master[i]).bits;
  CHECK(mismatches == 0);
}
}  // namespace

namespace {

// The grid-stride launches (convert, elementwise, AdamW) cap their grid at 65536 blocks of
// 256 threads: 2^24 threads. This many elements sends the first 2^20 + 3 threads round
// their loop a second time.
constexpr std::int64_t past_grid_cap = (std::int64_t{1} << 24) + (1 << 20) + 3;

}  // namespace

TEST_CASE("AdamW over a flat buffer with decay segments and a bf16 compute copy") {
  RandomGenerator rng(60);
  check_adamw(10007, {{0, 1000, true}, {1000, 7, false}, {1007, 0, true}, {1007, 9000, true}},
              {3e-3, 0.9, 0.95, 1e-8, 0.1, 7}, rng);
}

TEST_CASE("AdamW past the grid cap, with segment boundaries on both sides of 2^24") {
  RandomGenerator rng(160);
  const std::int64_t n = past_grid_cap, half = std::int64_t{1} << 23, cap = std::int64_t{1} << 24;
  kernels::AdamWHyper hyper{3e-3, 0.9, 0.95, 1e-8, 0.1, 3};
  hyper.grad_scale = 0.5;
  check_adamw(n,
              {{0, half, true},
               {half, 5, false},
               {half + 5, cap + 100 - (half + 5), true},
               {cap + 100, n - (cap + 100), false}},
              hyper, rng);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
