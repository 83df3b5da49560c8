// RMSNorm (kernels/rmsnorm.h, autograd::rmsnorm): plain and fused with the residual add.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>

#include "kernels/elementwise.h"
#include "kernels/rmsnorm.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("rmsnorm");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("rmsnorm matches its formula") {
  RandomGenerator rng(3);
  Tensor x = random_tensor({3, 5}, rng), w = random_tensor({5}, rng);
  Tensor y = Tensor::empty({3, 5}, DType::f64), inv = Tensor::empty({3}, DType::f64);
  kernels::rmsnorm_forward(x, w, 1e-5, y, inv);
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>(), yv = y.to_vector<double>();
  for (int r = 0; r < 3; ++r) {
    double ms = 0;
    for (int j = 0; j < 5; ++j) ms += xv[r * 5 + j] * xv[r * 5 + j] / 5;
    for (int j = 0; j < 5; ++j)
      CHECK(yv[r * 5 + j] == doctest::Approx(xv[r * 5 + j] / std::sqrt(ms + 1e-5) * wv[j]).epsilon(1e-13));
  }
  Tensor bad_w = Tensor::zeros({4}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::rmsnorm_forward(x, bad_w, 1e-5, y, inv),
                       doctest::Contains("expected shape [5], got f64[4] cpu"), Error);
}

TEST_CASE("rmsnorm_residual_forward equals add then rmsnorm_forward") {
  RandomGenerator rng(5);
  Tensor x = Tensor::empty({4, 9}, DType::f64), r = Tensor::empty({4, 9}, DType::f64);
  Tensor w = Tensor::empty({9}, DType::f64);
  fill_uniform(x, rng, -2, 2);
  fill_uniform(r, rng, -2, 2);
  fill_uniform(w, rng, 0.5, 1.5);
  Tensor h = Tensor::empty({4, 9}, DType::f64), y = Tensor::empty({4, 9}, DType::f64);
  Tensor inv = Tensor::empty({4}, DType::f64);
  kernels::rmsnorm_residual_forward(x, r, w, 1e-6, h, y, inv);
  Tensor h_ref = Tensor::empty({4, 9}, DType::f64), y_ref = Tensor::empty({4, 9}, DType::f64);
  Tensor inv_ref = Tensor::empty({4}, DType::f64);
  kernels::add(x, r, h_ref);
  kernels::rmsnorm_forward(h_ref, w, 1e-6, y_ref, inv_ref);
  CHECK(h.to_vector<double>() == h_ref.to_vector<double>());
  CHECK(y.to_vector<double>() == y_ref.to_vector<double>());
  CHECK(inv.to_vector<double>() == inv_ref.to_vector<double>());
}

TEST_CASE("rmsnorm on the CPU keeps requiring one dtype for the statistics") {
  const Tensor x = Tensor::full({2, 3}, 1.0, DType::f64), w = Tensor::full({3}, 1.0, DType::f64);
  Tensor y = Tensor::empty({2, 3}, DType::f64), inv32 = Tensor::empty({2}, DType::f32);
  CHECK_THROWS_AS(kernels::rmsnorm_forward(x, w, 1e-5, y, inv32), Error);
}

TEST_CASE("gradient: rmsnorm over odd widths") {
  RandomGenerator rng(14);
  for (std::int64_t D : {1, 5, 16}) {
    CAPTURE(D);
    check_gradients([](const Inputs& in) { return weighted_sum(ag::rmsnorm(in[0], in[1], 1e-5)); },
                    {random_tensor({2, 3, D}, rng), random_tensor({D}, rng, 0.5, 1.5)});
  }
}

TEST_CASE("RMSNorm in bf16: statistics and weight gradient in f32 or bf16, residual fused") {
  RandomGenerator rng(5);
  const std::int64_t rows = 33, D = 77;
  const Tensor x = random_bf16({3, rows / 3, D}, rng, -2, 2), w = random_bf16({D}, rng, 0.5, 1.5);
  const Tensor dy = random_bf16({3, rows / 3, D}, rng);
  Tensor y_ref = Tensor::empty(x.shape(), DType::f64), inv_ref = Tensor::empty({rows}, DType::f64);
  kernels::rmsnorm_forward(wide(x), wide(w), 1e-5, y_ref, inv_ref);
  const Tensor dw0 = random_tensor({D}, rng, -1, 1, DType::f32);
  Tensor dx_ref = Tensor::empty(x.shape(), DType::f64), dw_ref = wide(dw0);
  kernels::rmsnorm_backward(wide(x), wide(w), inv_ref, wide(dy), dx_ref, dw_ref);

  for (DType stats : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(stats));
    const std::string tag = std::string(" (") + std::string(dtype_name(stats)) + " statistics)";
    const double stats_bound = stats == DType::f32 ? f32_bound : bf16_bound;
    Tensor y = poisoned(x.shape(), DType::bf16), inv = poisoned({rows}, stats);
    kernels::rmsnorm_forward(x, w, 1e-5, y, inv);
    check_close("rmsnorm y" + tag, y, y_ref, bf16_bound);
    check_close("rmsnorm inv_rms" + tag, inv, inv_ref, stats_bound);
    for (DType dw_dtype : {DType::f32, DType::bf16}) {
      Tensor dx = poisoned(x.shape(), DType::bf16), dw = dw0.to(dw_dtype);
      kernels::rmsnorm_backward(x, w, inv, dy, dx, dw);
      check_close("rmsnorm dx" + tag, dx, dx_ref, bf16_bound);
      const bool exact_path = stats == DType::f32 && dw_dtype == DType::f32;
      check_close(std::string("rmsnorm dweight ") + std::string(dtype_name(dw_dtype)) + " +=" + tag, dw, dw_ref,
                  exact_path ? f32_bound : bf16_bound);
    }
  }

  const Tensor r = random_bf16(x.shape(), rng, -2, 2);
  Tensor h = poisoned(x.shape(), DType::bf16), y = poisoned(x.shape(), DType::bf16);
  Tensor inv = poisoned({rows}, DType::f32);
  kernels::rmsnorm_residual_forward(x, r, w, 1e-5, h, y, inv);
  // The reference normalizes the bf16-rounded sum, as the GPU does.
  Tensor h_ref = Tensor::empty(x.shape(), DType::f64), y_res_ref = Tensor::empty(x.shape(), DType::f64);
  kernels::add(wide(x), wide(r), h_ref);
  kernels::rmsnorm_forward(wide(h_ref.to(DType::bf16)), wide(w), 1e-5, y_res_ref, inv_ref);
  check_close("rmsnorm_residual h", h, h_ref, bf16_bound);
  check_close("rmsnorm_residual y", y, y_res_ref, bf16_bound);
  check_close("rmsnorm_residual inv_rms (f32)", inv, inv_ref, f32_bound);

  // dx added into the gradient already there: in f32 the bits of backward-then-add; in bf16
  // the sum rounded once.
  const Tensor dx0 = random_bf16(x.shape(), rng);
  kernels::rmsnorm_forward(wide(x), wide(w), 1e-5, y_ref, inv_ref);
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    const Tensor xd = x.to(dtype), wd = w.to(dtype), dyd = dy.to(dtype), invd = inv_ref.to(DType::f32);
    Tensor fresh = poisoned(x.shape(), dtype), dwa = dw0.clone(), dwb = dw0.clone();
    kernels::rmsnorm_backward(xd, wd, invd, dyd, fresh, dwa);
    Tensor summed = dx0.to(dtype);
    kernels::rmsnorm_backward(xd, wd, invd, dyd, summed, dwb, true);
    CHECK(same_bits(dwa, dwb));
    if (dtype == DType::f32) {
      Tensor in_f32 = dx0.to(DType::f32);
      kernels::accumulate(in_f32, fresh);
      CHECK(same_bits(summed, in_f32));
    } else {
      Tensor f32_sum = dx0.to(DType::f32);
      kernels::rmsnorm_backward(xd.to(DType::f32), wd.to(DType::f32), invd, dyd.to(DType::f32), f32_sum,
                                dwb, true);
      CHECK(same_bits(summed, f32_sum.to(DType::bf16)));
    }
    Tensor sum_ref = wide(dx0);
    kernels::accumulate(sum_ref, dx_ref);
    check_close(std::string("rmsnorm dx accumulated ") + std::string(dtype_name(dtype)), summed, sum_ref,
                dtype == DType::f32 ? 1e-4 : bf16_bound);
  }

  Tensor inv64 = Tensor::empty({rows}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::rmsnorm_forward(x, w, 1e-5, y, inv64), Contains("rmsnorm_forward"), Error);
  CHECK_THROWS_WITH_AS(kernels::rmsnorm_forward(x, w.to(DType::f32), 1e-5, y, inv),
                       Contains("rmsnorm_forward"), Error);
  Tensor dx = Tensor::empty(x.shape(), DType::bf16), dw64 = wide(dw0);
  CHECK_THROWS_WITH_AS(kernels::rmsnorm_backward(x, w, inv, dy, dx, dw64), Contains("rmsnorm_backward"), Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("RMSNorm forward and backward, f32 and bf16, odd widths") {
  // (Not D = 1: there dx = inv·g·w·eps/(x² + eps) is a cancellation no fp32 code meets 1e-5 on.)
  for_each_dtype_and_size(30, {3, 100, 2048}, [](DType dtype, std::int64_t D, RandomGenerator& rng) {
    const std::int64_t rows = 33;
    const Tensor x = random_cpu({3, rows / 3, D}, dtype, rng, -2.0, 2.0);
    const Tensor w = random_cpu({D}, dtype, rng, 0.5, 1.5);
    const Tensor dy = random_cpu({3, rows / 3, D}, dtype, rng);
    const Tensor dw0 = random_cpu({D}, DType::f32, rng);

    Tensor y_ref = Tensor::empty(x.shape(), DType::f64), inv_ref = Tensor::empty({rows}, DType::f64);
    kernels::rmsnorm_forward(as_f64_cpu(x), as_f64_cpu(w), 1e-5, y_ref, inv_ref);
    Tensor dx_ref = Tensor::empty(x.shape(), DType::f64);
    Tensor dw_ref = as_f64_cpu(dw0);
    kernels::rmsnorm_backward(as_f64_cpu(x), as_f64_cpu(w), inv_ref, as_f64_cpu(dy), dx_ref, dw_ref);

    const Tensor xg = x.to(Device::cuda), wg = w.to(Device::cuda);
    Tensor y = poisoned_cuda(x.shape(), dtype), inv = poisoned_cuda({rows}, DType::f32);
    kernels::rmsnorm_forward(xg, wg, 1e-5, y, inv);
    check_close(y, y_ref, tolerance_for(dtype), "y");
    check_close(inv, inv_ref, fp32_tolerance, "inv_rms");
    Tensor dx = poisoned_cuda(x.shape(), dtype);
    Tensor dw = dw0.to(Device::cuda);  // accumulated into, f32
    kernels::rmsnorm_backward(xg, wg, inv, dy.to(Device::cuda), dx, dw);
    check_close(dx, dx_ref, tolerance_for(dtype), "dx");
    check_close(dw, dw_ref, tolerance_for(dtype), "dweight");

    // dx added into the gradient already there (a pre-norm block's residual gradient).
    const Tensor dx0 = random_cpu(x.shape(), dtype, rng);
    Tensor sum_ref = as_f64_cpu(dx0);
    kernels::accumulate(sum_ref, dx_ref);
    Tensor summed = dx0.to(Device::cuda);
    kernels::rmsnorm_backward(xg, wg, inv, dy.to(Device::cuda), summed, dw, true);
    check_close(summed, sum_ref, tolerance_for(dtype), "dx accumulated");
  });
}

TEST_CASE("RMSNorm fused with the residual add") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 40 : 41);
    const std::int64_t rows = 21, D = 77;
    const Tensor x = random_cpu({rows, D}, dtype, rng, -2.0, 2.0);
    const Tensor r = random_cpu({rows, D}, dtype, rng, -2.0, 2.0);
    const Tensor w = random_cpu({D}, dtype, rng, 0.5, 1.5);
    Tensor h_ref = Tensor::empty({rows, D}, DType::f64), y_ref = Tensor::empty({rows, D}, DType::f64);
    Tensor inv_ref = Tensor::empty({rows}, DType::f64);
    kernels::rmsnorm_residual_forward(as_f64_cpu(x), as_f64_cpu(r), as_f64_cpu(w), 1e-6, h_ref, y_ref, inv_ref);
    Tensor h = poisoned_cuda({rows, D}, dtype), y = poisoned_cuda({rows, D}, dtype);
    Tensor inv = poisoned_cuda({rows}, DType::f32);
    kernels::rmsnorm_residual_forward(x.to(Device::cuda), r.to(Device::cuda), w.to(Device::cuda), 1e-6, h, y, inv);
    check_close(h, h_ref, tolerance_for(dtype), "residual_out");
    check_close(y, y_ref, tolerance_for(dtype), "y");
    check_close(inv, inv_ref, tolerance_for(dtype), "inv_rms");
  }
}

TEST_CASE("RMSNorm with several rows per backward block, and rows wider than 48 KiB of shared memory") {
  // The backward runs min(rows, 256) blocks, each looping over rows r ≡ blockIdx.x: 549
  // rows give blocks 0-36 three rows and the rest two. Its column accumulator lives in
  // dynamic shared memory, over the default 48 KiB (opt-in attribute) once D > 12288.
  struct Shape2 {
    std::int64_t rows, D;
  };
  std::uint64_t seed = 130;
  for (const Shape2 s : {Shape2{549, 2560}, Shape2{300, 16411}})
    for (DType dtype : {DType::f32, DType::bf16}) {
      CAPTURE(s.rows);
      CAPTURE(s.D);
      CAPTURE(dtype_name(dtype));
      RandomGenerator rng(++seed);
      const Tensor x = random_cpu({s.rows, s.D}, dtype, rng, -2.0, 2.0);
      const Tensor w = random_cpu({s.D}, dtype, rng, 0.5, 1.5);
      const Tensor dy = random_cpu({s.rows, s.D}, dtype, rng);
      const Tensor dw0 = random_cpu({s.D}, DType::f32, rng);
      Tensor y_ref = Tensor::empty(x.shape(), DType::f64), inv_ref = Tensor::empty({s.rows}, DType::f64);
      kernels::rmsnorm_forward(as_f64_cpu(x), as_f64_cpu(w), 1e-5, y_ref, inv_ref);
      Tensor dx_ref = Tensor::empty(x.shape(), DType::f64), dw_ref = as_f64_cpu(dw0);
      kernels::rmsnorm_backward(as_f64_cpu(x), as_f64_cpu(w), inv_ref, as_f64_cpu(dy), dx_ref, dw_ref);

      const Tensor xg = x.to(Device::cuda), wg = w.to(Device::cuda);
      Tensor y = poisoned_cuda(x.shape(), dtype), inv = poisoned_cuda({s.rows}, DType::f32);
      kernels::rmsnorm_forward(xg, wg, 1e-5, y, inv);
      Tensor dx = poisoned_cuda(x.shape(), dtype), dw = dw0.to(Device::cuda);
      kernels::rmsnorm_backward(xg, wg, inv, dy.to(Device::cuda), dx, dw);
      check_close(y, y_ref, tolerance_for(dtype), "y");
      check_close(inv, inv_ref, fp32_tolerance, "inv_rms (f32)");
      check_close(dx, dx_ref, tolerance_for(dtype), "dx");
      check_close(dw, dw_ref, fp32_tolerance, "dweight (f32, accumulated)");
    }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
