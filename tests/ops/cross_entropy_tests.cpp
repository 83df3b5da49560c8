// Fused softmax cross-entropy (kernels/cross_entropy.h, autograd::cross_entropy):
// the row loss, dlogits, ignored targets, count_targets.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cross_entropy.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("cross_entropy");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("cross-entropy: log-softmax loss, ignored rows, gradient of the mean") {
  RandomGenerator rng(4);
  Tensor logits = random_tensor({4, 6}, rng, -3, 3);
  Tensor targets = Tensor::from_values<std::int32_t>({5, kernels::ignore_index, 0, 2}, {4});
  Tensor loss = Tensor::empty({4}, DType::f64), dlogits = Tensor::empty({4, 6}, DType::f64);
  kernels::cross_entropy_forward_backward(logits, targets, 1.0 / 3, loss, &dlogits);
  CHECK(kernels::count_targets(targets, 6) == 3);
  const auto l = logits.to_vector<double>(), lv = loss.to_vector<double>(), dv = dlogits.to_vector<double>();
  const int target[] = {5, -1, 0, 2};
  for (int r = 0; r < 4; ++r) {
    if (target[r] < 0) {
      CHECK(lv[r] == 0.0);
      for (int j = 0; j < 6; ++j) CHECK(dv[r * 6 + j] == 0.0);
      continue;
    }
    double z = 0;
    for (int j = 0; j < 6; ++j) z += std::exp(l[r * 6 + j]);
    CHECK(lv[r] == doctest::Approx(std::log(z) - l[r * 6 + target[r]]).epsilon(1e-13));
    for (int j = 0; j < 6; ++j)
      CHECK(dv[r * 6 + j] == doctest::Approx((std::exp(l[r * 6 + j]) / z - (j == target[r])) / 3).epsilon(1e-12));
  }
  // Large logits stay finite (max subtraction).
  Tensor big = Tensor::from_values<float>({1000.0f, 0.0f}, {1, 2});
  Tensor t0 = Tensor::from_values<std::int32_t>({1}, {1});
  Tensor bl = Tensor::empty({1}, DType::f32);
  kernels::cross_entropy_forward_backward(big, t0, 1.0, bl, nullptr);
  CHECK(bl.item(0) == doctest::Approx(1000.0));
  Tensor bad = Tensor::from_values<std::int32_t>({6, 0, 0, 0}, {4});
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward_backward(logits, bad, 1.0, loss, nullptr),
                       doctest::Contains("target 6 at row 0 is outside the vocabulary [0, 6)"), Error);
  CHECK_THROWS_WITH_AS(kernels::count_targets(bad, 6),
                       doctest::Contains("target 6 at row 0 is outside the vocabulary [0, 6)"), Error);
}

TEST_CASE("gradient: cross-entropy with ignored targets, and scaled upstream") {
  RandomGenerator rng(16);
  Tensor targets = Tensor::from_values<std::int32_t>({2, kernels::ignore_index, 0, 6, kernels::ignore_index}, {5});
  check_gradients([](const Inputs& in) { return ag::cross_entropy(in[0], in[1]).loss; },
                  {random_tensor({5, 7}, rng, -2, 2), targets});
  check_gradients([](const Inputs& in) { return ag::scale(ag::cross_entropy(in[0], in[1]).loss, 3.0); },
                  {random_tensor({5, 7}, rng, -2, 2), targets});
}

TEST_CASE("cross-entropy on bf16 logits: row loss in f32 or bf16, dlogits in bf16") {
  RandomGenerator rng(7);
  const std::int64_t rows = 37, V = 1001;
  const Tensor logits = random_bf16({rows, V}, rng, -8, 8);
  std::vector<std::int32_t> target_values(rows);
  for (std::int64_t r = 0; r < rows; ++r)
    target_values[r] = r % 5 == 0 ? kernels::ignore_index : static_cast<std::int32_t>(rng.uniform_int(V));
  const Tensor targets = Tensor::from_values<std::int32_t>(target_values, {rows});
  const double scale = 1.0 / 29.0;
  Tensor loss_ref = Tensor::empty({rows}, DType::f64), d_ref = Tensor::empty({rows, V}, DType::f64);
  kernels::cross_entropy_forward_backward(wide(logits), targets, scale, loss_ref, &d_ref);
  for (DType loss_dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(loss_dtype));
    Tensor loss = poisoned({rows}, loss_dtype), d = poisoned({rows, V}, DType::bf16);
    kernels::cross_entropy_forward_backward(logits, targets, scale, loss, &d);
    check_close(std::string("cross_entropy row_loss ") + std::string(dtype_name(loss_dtype)), loss, loss_ref,
                loss_dtype == DType::f32 ? f32_bound : bf16_bound);
    check_close("cross_entropy dlogits bf16", d, d_ref, bf16_bound);
  }
  Tensor loss16 = Tensor::empty({rows}, DType::bf16), d32 = Tensor::empty({rows, V}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward_backward(logits.to(DType::f32), targets, 1.0, loss16, nullptr),
                       Contains("cross_entropy"), Error);
  Tensor loss32 = Tensor::empty({rows}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::cross_entropy_forward_backward(logits, targets, 1.0, loss32, &d32),
                       Contains("cross_entropy"), Error);
}

TEST_CASE("cross-entropy with the count given and a weight: weight x mean, gradient scaled in the same pass") {
  RandomGenerator rng(5);
  Tensor logits = random_tensor({5, 7}, rng, -2, 2);
  const Tensor targets = Tensor::from_values<std::int32_t>({3, -1, 0, 6, -1}, {5});
  logits.set_requires_grad(true);
  const auto plain = ag::cross_entropy(logits, targets);
  ag::backward(plain.loss);
  const std::vector<double> plain_grad = logits.grad().to_vector<double>();
  logits.set_grad(Tensor());
  const auto weighted = ag::cross_entropy(logits, targets, {3, 0.25});
  CHECK(plain.counted == 3);
  CHECK(weighted.counted == 3);
  CHECK(weighted.loss.item() == doctest::Approx(0.25 * plain.loss.item()).epsilon(1e-14));
  CHECK(weighted.row_loss.to_vector<double>() == plain.row_loss.to_vector<double>());
  ag::backward(weighted.loss);
  const std::vector<double> grad = logits.grad().to_vector<double>();
  for (std::size_t i = 0; i < grad.size(); ++i) CHECK(grad[i] == doctest::Approx(0.25 * plain_grad[i]).epsilon(1e-14));
  // Nothing counted: loss 0, no NaN.
  const Tensor none = Tensor::from_values<std::int32_t>({-1, -1, -1, -1, -1}, {5});
  CHECK(ag::cross_entropy(logits, none).loss.item() == 0.0);
  ag::tape().clear();
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

namespace {

// Targets ≠ ignore_index: the rows a mean loss divides by (computed here, on the host).
std::int64_t counted_rows(const Tensor& targets) {
  std::int64_t counted = 0;
  for (std::int32_t t : targets.to_vector<std::int32_t>()) counted += t != kernels::ignore_index;
  return counted;
}

// Elements of `t` (any device) that are not exactly 0, at positions where `where` is true.
std::int64_t nonzero_where(const Tensor& t, const std::vector<bool>& where) {
  const std::vector<double> v = t.to_vector<double>();
  std::int64_t count = 0;
  for (std::size_t i = 0; i < v.size(); ++i) count += where[i] && v[i] != 0.0;
  return count;
}

}  // namespace

TEST_CASE("cross-entropy: loss and dlogits, f32 and bf16 logits") {
  for_each_dtype_and_size(10, {1, 1001, 32000}, [](DType dtype, std::int64_t V, RandomGenerator& rng) {
    const std::int64_t rows = 37;
    const Tensor logits = random_cpu({rows, V}, dtype, rng, -8.0, 8.0);
    const Tensor targets = random_ids(rows, V, rng, true);
    const double scale = 1.0 / 29.0;
    Tensor loss_ref = Tensor::empty({rows}, DType::f64);
    Tensor d_ref = Tensor::empty({rows, V}, DType::f64);
    kernels::cross_entropy_forward_backward(as_f64_cpu(logits), targets, scale, loss_ref, &d_ref);

    // Row loss in f32 whatever the logits' dtype (fp32 reductions).
    Tensor loss = poisoned_cuda({rows}, DType::f32);
    Tensor d = poisoned_cuda({rows, V}, dtype);
    kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss, &d);
    // The loss is computed in f32 from the (exact) input values: the fp32 bound either way.
    check_close(loss, loss_ref, fp32_tolerance, "row loss");
    check_close(d, d_ref, tolerance_for(dtype), "dlogits");

    // Forward only (no dlogits).
    Tensor loss2 = poisoned_cuda({rows}, DType::f32);
    kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss2, nullptr);
    check_close(loss2, loss_ref, fp32_tolerance, "row loss without dlogits");
  });
}

TEST_CASE("cross-entropy: a target outside the vocabulary gives NaN on its row, count_targets names it") {
  const Tensor logits = Tensor::full({3, 5}, 0.5, DType::f32, Device::cuda);
  const Tensor targets = Tensor::from_values<std::int32_t>({1, 7, -1}, {3}).to(Device::cuda);
  Tensor loss = poisoned_cuda({3}, DType::f32), d = poisoned_cuda({3, 5}, DType::f32);
  // The kernel cannot throw without waiting for the device: the bad row is NaN, the others
  // are exact (the ignored row is zero).
  kernels::cross_entropy_forward_backward(logits, targets, 1.0, loss, &d);
  const std::vector<float> l = loss.to_vector<float>(), dv = d.to_vector<float>();
  CHECK(l[0] == doctest::Approx(std::log(5.0)));
  CHECK(std::isnan(l[1]));
  CHECK(l[2] == 0.0f);
  for (int j = 0; j < 5; ++j) {
    CHECK(std::isnan(dv[5 + j]));
    CHECK(dv[10 + j] == 0.0f);
  }
  CHECK_THROWS_WITH_AS(kernels::count_targets(targets, 5),
                       doctest::Contains("target 7 at row 1 is outside the vocabulary [0, 5)"), Error);
}

TEST_CASE("cross-entropy at the real vocabulary: 32000 columns, 1031 rows, -inf logits, ignored rows") {
  // One block of 512 threads per row: 1031 blocks, several waves of them. Each thread walks
  // ~63 columns keeping a running (max, sum); the rows below put -inf where that running
  // pair starts, where a whole thread (or warp) sees nothing else, and where only the
  // target is finite.
  const std::int64_t rows = 1031, V = 32000;
  RandomGenerator rng(15);
  Tensor logits32 = random_cpu({rows, V}, DType::f32, rng, -8.0, 8.0);
  Tensor targets = random_ids(rows, V, rng, true);  // rows 0, 5, 10, ... ignored
  float* l = logits32.data<float>();
  const std::int32_t* t = targets.data<std::int32_t>();
  const float ninf = -std::numeric_limits<float>::infinity();
  for (std::int64_t j = 0; j < V; ++j) {
    if (j != t[1] && j % 2 == 1) l[1 * V + j] = ninf;  // every other logit
    if (j != t[2] && j != (t[2] + 1) % V && j != (t[2] + 7777) % V && j != (t[2] + 20000) % V)
      l[2 * V + j] = ninf;                              // the target and three others finite
    if (j != t[3] && j < 1024) l[3 * V + j] = ninf;    // each thread's first two columns
    if (j != t[4]) l[4 * V + j] = ninf;                 // only the target: loss and dlogits exactly 0
    l[5 * V + j] = ninf;                                // an ignored row of -inf only
  }
  REQUIRE(t[0] == kernels::ignore_index);
  REQUIRE(t[5] == kernels::ignore_index);
  for (int r = 1; r <= 4; ++r) REQUIRE(t[r] != kernels::ignore_index);
  // bf16 values throughout, so one f64 reference serves f32 and bf16 logits alike.
  const Tensor logits_bf16 = logits32.to(DType::bf16);
  const Tensor logits_f32 = logits_bf16.to(DType::f32);
  const double scale = 1.0 / static_cast<double>(counted_rows(targets));
  Tensor loss_ref = Tensor::empty({rows}, DType::f64), d_ref = Tensor::empty({rows, V}, DType::f64);
  kernels::cross_entropy_forward_backward(as_f64_cpu(logits_bf16), targets, scale, loss_ref, &d_ref);
  // dlogits must be exactly 0 on ignored rows and at -inf logits, and the loss of row 4 (a
  // single finite logit) exactly 0.
  std::vector<bool> exact_zero(rows * V, false);
  const std::vector<float> lv = logits_f32.to_vector<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < V; ++j)
      exact_zero[r * V + j] = t[r] == kernels::ignore_index || lv[r * V + j] == ninf;
  std::vector<bool> loss_zero(rows, false);
  for (std::int64_t r = 0; r < rows; ++r) loss_zero[r] = t[r] == kernels::ignore_index || r == 4;

  const Tensor targets_gpu = targets.to(Device::cuda);
  struct Variant {
    DType logits, loss;
  };
  for (const Variant v : {Variant{DType::f32, DType::f32}, Variant{DType::bf16, DType::f32},
                          Variant{DType::bf16, DType::bf16}}) {
    CAPTURE(dtype_name(v.logits));
    CAPTURE(dtype_name(v.loss));
    const Tensor logits = (v.logits == DType::bf16 ? logits_bf16 : logits_f32).to(Device::cuda);
    Tensor loss = poisoned_cuda({rows}, v.loss), d = poisoned_cuda({rows, V}, v.logits);
    kernels::cross_entropy_forward_backward(logits, targets_gpu, scale, loss, &d);
    // The loss is computed in f32 from exact inputs; a bf16 row loss is then rounded once.
    check_close(loss, loss_ref, tolerance_for(v.loss), "row loss");
    check_close(d, d_ref, tolerance_for(v.logits), "dlogits");
    CHECK(nonzero_where(d, exact_zero) == 0);
    CHECK(nonzero_where(loss, loss_zero) == 0);
    Tensor loss2 = poisoned_cuda({rows}, v.loss);
    kernels::cross_entropy_forward_backward(logits, targets_gpu, scale, loss2, nullptr);
    check_close(loss2, loss_ref, tolerance_for(v.loss), "row loss without dlogits");
  }
}

TEST_CASE("cross-entropy: every row ignored, and many short rows") {
  SUBCASE("all rows ignored: zero loss and zero dlogits, nothing unwritten") {
    const std::int64_t rows = 37, V = 1001;
    RandomGenerator rng(16);
    const Tensor logits32 = random_cpu({rows, V}, DType::f32, rng, -8.0, 8.0);
    const Tensor targets = Tensor::full({rows}, kernels::ignore_index, DType::i32, Device::cuda);
    for (DType loss_dtype : {DType::f32, DType::bf16}) {
      for (DType logit_dtype : {DType::f32, DType::bf16}) {
        if (logit_dtype == DType::f32 && loss_dtype == DType::bf16) continue;  // not a combination
        CAPTURE(dtype_name(logit_dtype));
        CAPTURE(dtype_name(loss_dtype));
        const Tensor logits = (logit_dtype == DType::f32 ? logits32 : logits32.to(DType::bf16)).to(Device::cuda);
        Tensor loss = poisoned_cuda({rows}, loss_dtype), d = poisoned_cuda({rows, V}, logit_dtype);
        kernels::cross_entropy_forward_backward(logits, targets, 1.0, loss, &d);
        CHECK(nonzero_where(loss, std::vector<bool>(rows, true)) == 0);
        CHECK(nonzero_where(d, std::vector<bool>(rows * V, true)) == 0);
      }
    }
  }
  SUBCASE("266243 rows of a 3-word vocabulary") {
    // One block per row: a grid of 266243 blocks, each row shorter than a warp.
    const std::int64_t rows = 262144 + 4099, V = 3;
    RandomGenerator rng(17);
    const Tensor logits = random_cpu({rows, V}, DType::f32, rng, -4.0, 4.0);
    const Tensor targets = random_ids(rows, V, rng, true);
    const double scale = 1.0 / static_cast<double>(counted_rows(targets));
    Tensor loss_ref = Tensor::empty({rows}, DType::f64), d_ref = Tensor::empty({rows, V}, DType::f64);
    kernels::cross_entropy_forward_backward(as_f64_cpu(logits), targets, scale, loss_ref, &d_ref);
    Tensor loss = poisoned_cuda({rows}, DType::f32), d = poisoned_cuda({rows, V}, DType::f32);
    kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss, &d);
    check_close(loss, loss_ref, fp32_tolerance, "row loss");
    check_close(d, d_ref, fp32_tolerance, "dlogits");
  }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
