// kernels/cpu: forward results against straightforward formulas, and the operand checks
// that turn shape, dtype and device mistakes into messages naming the op and the shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "kernels/adamw.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/reduce.h"
#include "kernels/rmsnorm.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;

namespace {
// op(X)[i, j] for a row-major matrix stored [rows, cols].
double element(const std::vector<double>& x, std::int64_t cols, bool trans, std::int64_t i,
               std::int64_t j) {
  return trans ? x[j * cols + i] : x[i * cols + j];
}
}  // namespace

TEST_CASE("matmul in every transpose combination, f32 (OpenBLAS) and f64, batched") {
  RandomGenerator rng(1);
  const std::int64_t batch = 3, M = 5, N = 7, K = 9;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      Tensor a = random_tensor(ta ? Shape{batch, K, M} : Shape{batch, M, K}, rng);
      Tensor b = random_tensor(tb ? Shape{batch, N, K} : Shape{batch, K, N}, rng);
      Tensor c0 = random_tensor({batch, M, N}, rng);
      const auto av = a.to_vector<double>(), bv = b.to_vector<double>(), cv = c0.to_vector<double>();
      std::vector<double> expected(batch * M * N);
      for (std::int64_t p = 0; p < batch; ++p)
        for (std::int64_t i = 0; i < M; ++i)
          for (std::int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (std::int64_t k = 0; k < K; ++k)
              acc += element({av.begin() + p * M * K, av.begin() + (p + 1) * M * K}, ta ? M : K, ta, i, k) *
                     element({bv.begin() + p * K * N, bv.begin() + (p + 1) * K * N}, tb ? K : N, tb, k, j);
            expected[(p * M + i) * N + j] = 0.5 * acc + 2.0 * cv[(p * M + i) * N + j];
          }
      Tensor want = Tensor::from_values<double>(expected, {batch, M, N});
      Tensor c64 = c0.clone();
      kernels::matmul(a, ta, b, tb, c64, 0.5, 2.0);
      CHECK(relative_error(c64, want) < 1e-14);
      Tensor c32 = c0.to(DType::f32);
      kernels::matmul(a.to(DType::f32), ta, b.to(DType::f32), tb, c32, 0.5, 2.0);
      CHECK(relative_error(c32, want) < 1e-6);
      // Rank 2 gives the same as one batch entry.
      Tensor c3 = Tensor::empty({batch, M, N}, DType::f64);
      kernels::matmul(a, ta, b, tb, c3);
      Tensor c2 = Tensor::empty({M, N}, DType::f64);
      kernels::matmul(a.slice(1, 2).reshape({a.dim(1), a.dim(2)}), ta,
                      b.slice(1, 2).reshape({b.dim(1), b.dim(2)}), tb, c2);
      CHECK(max_abs_difference(c2, c3.slice(1, 2).reshape({M, N})) == 0.0);
    }
}

TEST_CASE("large f32 matmuls split across threads by columns or rows agree with f64") {
  RandomGenerator rng(2);
  for (auto [M, N] : {std::pair<std::int64_t, std::int64_t>{70, 131}, {131, 70}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(M);
        CAPTURE(ta);
        CAPTURE(tb);
        const std::int64_t K = 300;  // 2·M·N·K above the threshold for splitting
        Tensor a = random_tensor(ta ? Shape{K, M} : Shape{M, K}, rng);
        Tensor b = random_tensor(tb ? Shape{N, K} : Shape{K, N}, rng);
        Tensor c0 = random_tensor({M, N}, rng);
        Tensor want = c0.clone();
        kernels::matmul(a, ta, b, tb, want, 1.0, 0.5);
        Tensor got = c0.to(DType::f32);
        kernels::matmul(a.to(DType::f32), ta, b.to(DType::f32), tb, got, 1.0, 0.5);
        CHECK(relative_error(got, want) < 1e-6);
      }
}

TEST_CASE("matmul rejects mismatched operands with the shapes in the message") {
  Tensor a = Tensor::zeros({4, 3}, DType::f32), b = Tensor::zeros({5, 2}, DType::f32);
  Tensor c = Tensor::zeros({4, 2}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::matmul(a, false, b, false, c),
                       doctest::Contains("matmul: inner dimensions differ (3 vs 5)"), Error);
  Tensor b2 = Tensor::zeros({3, 2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::matmul(a, false, b2, false, c),
                       doctest::Contains("matmul: dtypes differ, f32[4, 3] cpu and f64[3, 2] cpu"),
                       Error);
  Tensor b3 = Tensor::zeros({3, 2}, DType::f32), wrong_c = Tensor::zeros({2, 4}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::matmul(a, false, b3, false, wrong_c),
                       doctest::Contains("matmul output: expected shape [4, 2], got f32[2, 4] cpu"),
                       Error);
  Tensor i = Tensor::zeros({4, 3}, DType::i32), ib = Tensor::zeros({3, 2}, DType::i32),
         ic = Tensor::zeros({4, 2}, DType::i32);
  CHECK_THROWS_WITH_AS(kernels::matmul(i, false, ib, false, ic),
                       doctest::Contains("takes f32 or f64"), Error);
}

TEST_CASE("elementwise ops: broadcasting, sigmoid and exact GeLU values") {
  Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor bias = Tensor::from_values<double>({10, 20, 30}, {3});
  Tensor out = Tensor::empty({2, 3}, DType::f64);
  kernels::add(a, bias, out);
  CHECK(out.to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  kernels::mul(a, bias, out);
  CHECK(out.to_vector<double>() == std::vector<double>{10, 40, 90, 40, 100, 180});
  kernels::scale(a, -0.5, out);
  CHECK(out.item(5) == -3.0);
  Tensor wrong = Tensor::zeros({2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::add(a, wrong, out),
                       doctest::Contains("add: shape of f64[2] cpu is neither equal to nor a "
                                         "trailing part of f64[2, 3] cpu"),
                       Error);
  Tensor x = Tensor::from_values<double>({-2, 0, 1, 3}, {4}), y = Tensor::empty({4}, DType::f64);
  kernels::sigmoid_forward(x, y);
  CHECK(y.item(1) == 0.5);
  CHECK(y.item(3) == doctest::Approx(1 / (1 + std::exp(-3.0))).epsilon(1e-15));
  kernels::gelu_forward(x, y);
  // x·Φ(x): Φ(1) = 0.8413447460685429, Φ(-2) = 0.02275013194817921.
  CHECK(y.item(0) == doctest::Approx(-2 * 0.02275013194817921).epsilon(1e-14));
  CHECK(y.item(1) == 0.0);
  CHECK(y.item(2) == doctest::Approx(0.8413447460685429).epsilon(1e-14));
  Tensor rows = Tensor::empty({3}, DType::f64);
  kernels::sum_to_trailing(a, rows);
  CHECK(rows.to_vector<double>() == std::vector<double>{5, 7, 9});
  Tensor total = Tensor::from_values<double>({1, 2}, {2});
  kernels::accumulate(total, Tensor::from_values<double>({10, 20}, {2}));
  CHECK(total.to_vector<double>() == std::vector<double>{11, 22});
}

TEST_CASE("embedding gathers rows and rejects ids outside the vocabulary") {
  Tensor table = Tensor::from_values<double>({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor ids = Tensor::from_values<std::int32_t>({2, 0, 2}, {3});
  Tensor out = Tensor::empty({3, 2}, DType::f64);
  kernels::embedding_forward(table, ids, out);
  CHECK(out.to_vector<double>() == std::vector<double>{20, 21, 0, 1, 20, 21});
  Tensor dtable = Tensor::zeros({3, 2}, DType::f64);
  kernels::embedding_backward(ids, out, dtable);
  CHECK(dtable.to_vector<double>() == std::vector<double>{0, 1, 0, 0, 40, 42});
  Tensor bad = Tensor::from_values<std::int32_t>({1, 3}, {2});
  Tensor out2 = Tensor::empty({2, 2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::embedding_forward(table, bad, out2),
                       doctest::Contains("token id 3 at position 1 is outside the vocabulary [0, 3)"),
                       Error);
}

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
