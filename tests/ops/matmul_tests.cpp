// matmul and matmul_fused (kernels/matmul.h), autograd::matmul and autograd::linear. The
// GPU cases run in cuda_matmul_tests (tests/ops.cmake).
// (One more GPU check of matmul_fused's bias gradient with bf16 operands is in
// elementwise_tests.cpp, "mixed precision: ...", whose random draws it shares.)
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <utility>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/columns.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("matmul");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

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

TEST_CASE("matmul_fused on the CPU: bias added to every row, beta accumulation") {
  const Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_values<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  const Tensor bias = Tensor::from_values<double>({10, 20}, {2});
  Tensor c = Tensor::from_values<double>({1, 1, 1, 1}, {2, 2});
  kernels::matmul_fused(a, false, b, false, c, {bias, {}}, 2.0, 1.0);
  // a·b = [[4, 5], [10, 11]]; 2·ab + c + bias.
  CHECK(c.to_vector<double>() == std::vector<double>{19, 31, 31, 43});
}

TEST_CASE("matmul_fused on the CPU: the bias gradient is the row sum of op(A)") {
  const Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});  // [M=2, K=3]
  const Tensor b = Tensor::from_values<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor c = Tensor::empty({2, 2}, DType::f64), g = Tensor::empty({2}, DType::f64);
  kernels::matmul_fused(a, false, b, false, c, {{}, g});
  CHECK(g.to_vector<double>() == std::vector<double>{6, 15});
  CHECK(c.to_vector<double>() == std::vector<double>{4, 5, 10, 11});
  const Tensor at = Tensor::from_values<double>({1, 4, 2, 5, 3, 6}, {3, 2});  // Aᵀ stored
  Tensor g2 = Tensor::empty({2}, DType::f64);
  kernels::matmul_fused(at, true, b, false, c, {{}, g2});
  CHECK(g2.to_vector<double>() == std::vector<double>{6, 15});
  CHECK(c.to_vector<double>() == std::vector<double>{4, 5, 10, 11});
}

TEST_CASE("matmul_fused on the CPU: an addend read in place of C (a residual in the product)") {
  const Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_values<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  const Tensor bias = Tensor::from_values<double>({10, 20}, {2});
  const Tensor addend = Tensor::from_values<double>({2, 4, 6, 8}, {2, 2});
  Tensor c = Tensor::full({2, 2}, 1e9, DType::f64);  // written, never read
  kernels::matmul_fused(a, false, b, false, c, {bias, {}, addend}, 2.0, 0.5);
  // 2·ab + 0.5·addend + bias, ab = [[4, 5], [10, 11]].
  CHECK(c.to_vector<double>() == std::vector<double>{19, 32, 33, 46});
  CHECK(addend.to_vector<double>() == std::vector<double>{2, 4, 6, 8});
  Tensor g = Tensor::empty({2}, DType::f64);
  kernels::matmul_fused(a, false, b, false, c, {{}, g, addend}, 1.0, 1.0);
  CHECK(c.to_vector<double>() == std::vector<double>{6, 9, 16, 19});
  CHECK(g.to_vector<double>() == std::vector<double>{6, 15});
  // The addend may be C itself: then it is the plain beta·C.
  kernels::matmul_fused(a, false, b, false, c, {{}, {}, c}, 1.0, 1.0);
  CHECK(c.to_vector<double>() == std::vector<double>{10, 14, 26, 30});

  // f32: the bits of the unfused residual add, out = x + x·Wᵀ's product.
  RandomGenerator rng(5);
  const Tensor x = random_tensor({37, 24}, rng, -1, 1, DType::f32);
  const Tensor w = random_tensor({24, 24}, rng, -1, 1, DType::f32);
  Tensor product = Tensor::empty({37, 24}, DType::f32), unfused = Tensor::empty({37, 24}, DType::f32);
  kernels::matmul(x, false, w, true, product);
  kernels::add(x, product, unfused);
  Tensor fused = Tensor::empty({37, 24}, DType::f32);
  kernels::matmul_fused(x, false, w, true, fused, {{}, {}, x}, 1.0, 1.0);
  CHECK(same_bits(fused, unfused));

  const Tensor wrong_shape = Tensor::zeros({2, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::matmul_fused(a, false, b, false, c, {{}, {}, wrong_shape}),
                       Contains("matmul_fused addend: expected shape [2, 2]"), Error);
  const Tensor wrong_dtype = Tensor::zeros({2, 2}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::matmul_fused(a, false, b, false, c, {{}, {}, wrong_dtype}),
                       Contains("matmul_fused addend"), Error);
}

TEST_CASE("matmul keeps rejecting mixed dtypes on the CPU") {
  const Tensor a = Tensor::full({2, 2}, 1.0, DType::f32);
  Tensor c64 = Tensor::empty({2, 2}, DType::f64);
  CHECK_THROWS_AS(kernels::matmul(a, false, a, false, c64), Error);
  // (bf16 operands into f32 C are accepted, as on the GPU: tests/kernels_bf16_tests.cpp.)
}

TEST_CASE("gradient: matmul, all transposes, rank 2 and batched") {
  RandomGenerator rng(10);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool batched : {false, true}) {
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(batched);
        const std::int64_t M = 3, N = 5, K = 4;
        Shape sa = ta ? Shape{K, M} : Shape{M, K}, sb = tb ? Shape{N, K} : Shape{K, N};
        if (batched) {
          sa.insert(sa.begin(), 2);
          sb.insert(sb.begin(), 2);
        }
        check_gradients([&](const Inputs& in) { return weighted_sum(ag::matmul(in[0], in[1], ta, tb)); },
                        {random_tensor(sa, rng), random_tensor(sb, rng)});
      }
}

TEST_CASE("gradient: linear with and without bias, 3-D input") {
  RandomGenerator rng(11);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::linear(in[0], in[1], in[2])); },
                  {random_tensor({2, 3, 5}, rng), random_tensor({7, 5}, rng), random_tensor({7}, rng)});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::linear(in[0], in[1])); },
                  {random_tensor({1, 4}, rng), random_tensor({3, 4}, rng)});
}

TEST_CASE("gradient: add_linear (a residual inside the product), with the residual also the input") {
  RandomGenerator rng(12);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::add_linear(in[0], in[1], in[2])); },
                  {random_tensor({2, 3, 7}, rng), random_tensor({2, 3, 5}, rng), random_tensor({7, 5}, rng)});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::add_linear(in[0], in[0], in[1])); },
                  {random_tensor({4, 6}, rng), random_tensor({6, 6}, rng)});
  // Stacked, as residual blocks are: each block's gradient is handed on to the next.
  check_gradients([](const Inputs& in) {
    const Tensor h = ag::add_linear(in[0], ag::gelu(in[0]), in[1]);
    return weighted_sum(ag::add_linear(h, ag::linear(h, in[2], in[3]), in[1]));
  }, {random_tensor({3, 4}, rng), random_tensor({4, 4}, rng), random_tensor({4, 4}, rng), random_tensor({4}, rng)});
  const Tensor x = Tensor::zeros({2, 3}, DType::f64), w = Tensor::zeros({4, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(ag::add_linear(x, x, w), Contains("add_linear: residual f64[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(ag::linear(x, w, Tensor::zeros({3}, DType::f64)), Contains("linear: bias f64[3]"), Error);
}

TEST_CASE("linear and add_linear are one node each; the bf16 forward is the fused product's") {
  RandomGenerator rng(13);
  Tensor x = random_tensor({2, 3, 5}, rng), w = random_tensor({7, 5}, rng), b = random_tensor({7}, rng);
  Tensor r = random_tensor({2, 3, 7}, rng);
  for (Tensor* t : {&x, &w, &b, &r}) t->set_requires_grad(true);
  (void)ag::linear(x, w, b);
  CHECK(ag::tape().size() == 1);
  (void)ag::add_linear(r, x, w);
  CHECK(ag::tape().size() == 2);
  CHECK(ag::tape().nodes()[1].op == std::string("add_linear"));
  ag::tape().clear();

  const Tensor x16 = random_bf16({6, 8}, rng), w16 = random_bf16({5, 8}, rng), b16 = random_bf16({5}, rng);
  const Tensor r16 = random_bf16({6, 5}, rng);
  Tensor expected = Tensor::empty({6, 5}, DType::bf16);
  kernels::matmul_fused(x16, false, w16, true, expected, {b16, {}, r16}, 1.0, 1.0);
  Tensor biased = ag::linear(x16, w16, b16);
  Tensor plus_bias = Tensor::empty({6, 5}, DType::bf16);
  kernels::matmul_fused(x16, false, w16, true, plus_bias, {b16, {}});
  CHECK(same_bits(biased, plus_bias));
  Tensor expected_residual = Tensor::empty({6, 5}, DType::bf16);
  kernels::matmul_fused(x16, false, w16, true, expected_residual, {{}, {}, r16}, 1.0, 1.0);
  CHECK(same_bits(ag::add_linear(r16, x16, w16), expected_residual));
}

TEST_CASE("linear_parts: the columns of linear, one product a part; gradients (f64 finite differences)") {
  RandomGenerator rng(15);
  const Tensor x = random_tensor({2, 3, 5}, rng), w = random_tensor({7, 5}, rng);
  const auto parts = ag::linear_parts(x, w, {3, 1, 3});
  REQUIRE(parts.size() == 3);
  CHECK(parts[1].shape() == Shape{2, 3, 1});
  const Tensor whole = ag::linear(x, w);
  for (std::int64_t row = 0; row < 6; ++row)
    for (std::int64_t j = 0; j < 7; ++j) {
      const Tensor& part = parts[j < 3 ? 0 : j < 4 ? 1 : 2];
      const std::int64_t width = part.dim(-1), col = j < 3 ? j : j < 4 ? 0 : j - 4;
      CHECK(std::abs(part.item(row * width + col) - whole.item(row * 7 + j)) < 1e-13);
    }
  // The parts used unevenly (one twice, one squared, one not at all) so each part's
  // gradient reaches both x and its own rows of the weight, and an unused part none.
  check_gradients([](const Inputs& in) {
    const auto p = ag::linear_parts(in[0], in[1], {2, 4, 1});
    return ag::add(weighted_sum(ag::mul(p[1], p[1])), weighted_sum(ag::scale(p[0], 3.0)));
  }, {x, w});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::linear_parts(in[0], in[1], {7})[0]); }, {x, w});
  CHECK_THROWS_WITH_AS(ag::linear_parts(x, w, {3, 3}), Contains("widths sum to 6, not the 7 output features"), Error);
  CHECK_THROWS_WITH_AS(ag::linear_parts(x, w, {7, 0}), Contains("width 0"), Error);
  CHECK_THROWS_WITH_AS(ag::linear_parts(x, Tensor::zeros({7, 4}, DType::f64), {7}),
                       Contains("does not match weight f64[7, 4]"), Error);
}

TEST_CASE("gradient: an input used again after linear or linear_parts, its gradient summed inside the product") {
  // The later use's rule runs first, so the product's backward finds x's gradient already
  // there and accumulates into it with β = 1; x used by three products of one node too.
  RandomGenerator rng(17);
  check_gradients([](const Inputs& in) {
    const Tensor y = ag::linear(in[0], in[1]);
    return ag::add(weighted_sum(y), weighted_sum(ag::mul(in[0], in[0])));
  }, {random_tensor({2, 3, 5}, rng), random_tensor({4, 5}, rng)});
  check_gradients([](const Inputs& in) {
    const auto p = ag::linear_parts(in[0], in[1], {2, 3, 2});
    const Tensor again = ag::linear(in[0], in[2]);
    return ag::add(ag::add(weighted_sum(ag::mul(p[0], p[2])), weighted_sum(p[1])), weighted_sum(ag::gelu(again)));
  }, {random_tensor({3, 5}, rng), random_tensor({7, 5}, rng), random_tensor({2, 5}, rng)});
}

TEST_CASE("mixed precision linear_parts: each part's f32 weight gradient in its rows, micro-batches summed") {
  RandomGenerator rng(16);
  const Tensor x = random_bf16({9, 8}, rng), dy_values = random_bf16({9, 6}, rng);
  Tensor w = random_bf16({6, 8}, rng);
  w.set_requires_grad(true);
  w.set_grad(Tensor::zeros({6, 8}, DType::f32));
  Tensor xg = x.clone();
  xg.set_requires_grad(true);
  for (int pass = 0; pass < 2; ++pass) {
    const auto parts = ag::linear_parts(xg, w, {4, 2});
    Tensor dy0 = Tensor::empty({9, 4}, DType::bf16), dy1 = Tensor::empty({9, 2}, DType::bf16);
    kernels::copy_columns(dy_values, 0, dy0, 0, 4);
    kernels::copy_columns(dy_values, 4, dy1, 0, 2);
    // d loss / d part k = dy_k exactly: sum's gradient is 1.
    ag::backward(ag::add(ag::sum(ag::mul(parts[0], dy0)), ag::sum(ag::mul(parts[1], dy1))));
  }
  Tensor dw_ref = Tensor::zeros({6, 8}, DType::f64);
  kernels::matmul(wide(dy_values), true, wide(x), false, dw_ref, 2.0, 0.0);
  check_close("linear_parts bf16: f32 weight gradient", w.grad(), dw_ref, f32_bound);
  Tensor dx_ref = Tensor::zeros({9, 8}, DType::f64);
  kernels::matmul(wide(dy_values), false, wide(w), false, dx_ref, 2.0, 0.0);
  check_close("linear_parts bf16: input gradient", wide(xg.grad()), dx_ref, 4 * bf16_bound);
}

TEST_CASE("mixed precision linear: the bias gradient rides on the f32 weight gradient") {
  // bf16 compute weights whose gradients are f32 master gradients, as the parameter set
  // makes them; two backward passes accumulate like micro-batches.
  RandomGenerator rng(14);
  const Tensor x = random_bf16({9, 8}, rng), dy_values = random_bf16({9, 6}, rng);
  Tensor w = random_bf16({6, 8}, rng), b = random_bf16({6}, rng);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  w.set_grad(Tensor::zeros({6, 8}, DType::f32));
  b.set_grad(Tensor::zeros({6}, DType::f32));
  for (int pass = 0; pass < 2; ++pass) ag::backward(ag::linear(x, w, b), dy_values);
  Tensor dw_ref = Tensor::zeros({6, 8}, DType::f64);
  kernels::matmul(wide(dy_values), true, wide(x), false, dw_ref, 2.0, 0.0);
  Tensor db_ref = Tensor::empty({6}, DType::f64);
  kernels::sum_to_trailing(wide(dy_values), db_ref);
  kernels::scale_inplace(db_ref, 2.0);
  check_close("linear bf16: f32 weight gradient", w.grad(), dw_ref, f32_bound);
  check_close("linear bf16: f32 bias gradient", b.grad(), db_ref, f32_bound);
  CHECK(b.grad().dtype() == DType::f32);
}

TEST_CASE("matmul, bf16 operands: bf16 C, and f32 C accumulated exactly with beta = 1") {
  RandomGenerator rng(1);
  struct Size { std::int64_t batch, M, N, K; };
  // Odd sizes, and one large enough for the product to be split across threads.
  for (const Size s : {Size{3, 5, 7, 9}, Size{1, 70, 131, 300}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        CAPTURE(s.M);
        CAPTURE(ta);
        CAPTURE(tb);
        // A is a view: batch entries [1, batch] of a larger tensor.
        const Shape a_shape = ta ? Shape{s.batch + 1, s.K, s.M} : Shape{s.batch + 1, s.M, s.K};
        const Tensor a = random_bf16(a_shape, rng).slice(1, s.batch + 1);
        const Tensor b = random_bf16(tb ? Shape{s.batch, s.N, s.K} : Shape{s.batch, s.K, s.N}, rng);
        const Shape c_shape{s.batch, s.M, s.N};
        const auto reference = [&](const Tensor& c0, double beta) {
          Tensor ref = c0.defined() ? wide(c0) : Tensor::empty(c_shape, DType::f64);
          kernels::matmul(wide(a), ta, wide(b), tb, ref, 0.5, beta);
          return ref;
        };

        Tensor c16 = poisoned(c_shape, DType::bf16);
        kernels::matmul(a, ta, b, tb, c16, 0.5, 0.0);
        check_close("matmul bf16 C", c16, reference({}, 0.0), bf16_bound);

        const Tensor c0 = random_tensor(c_shape, rng, -1, 1, DType::f32);
        Tensor c32 = c0.clone();
        kernels::matmul(a, ta, b, tb, c32, 0.5, 1.0);
        check_close("matmul f32 C += bf16 product", c32, reference(c0, 1.0), f32_bound);

        // beta = 1 into a bf16 C: its old values widened, the sum rounded once.
        const Tensor c0_16 = c0.to(DType::bf16);
        Tensor c16_acc = c0_16.clone();
        kernels::matmul(a, ta, b, tb, c16_acc, 0.5, 1.0);
        check_close("matmul bf16 C += bf16 product", c16_acc, reference(c0_16, 1.0), bf16_bound);
        Tensor in_f32 = c0_16.to(DType::f32);
        kernels::matmul(a.to(DType::f32), ta, b.to(DType::f32), tb, in_f32, 0.5, 1.0);
        CHECK(same_bits(c16_acc, in_f32.to(DType::bf16)));
      }
}

TEST_CASE("matmul_fused, bf16 operands: one rounding with the bias, bias gradients into f32") {
  RandomGenerator rng(2);
  const std::int64_t M = 33, N = 17, K = 45;
  const Tensor a = random_bf16({M, K}, rng), b = random_bf16({K, N}, rng);
  const Tensor bias = random_bf16({N}, rng);
  Tensor c = poisoned({M, N}, DType::bf16);
  kernels::matmul_fused(a, false, b, false, c, {bias, {}});
  Tensor ref = Tensor::empty({M, N}, DType::f64);
  kernels::matmul_fused(wide(a), false, wide(b), false, ref, {wide(bias), {}});
  check_close("matmul_fused bf16 C + bias", c, ref, bf16_bound);
  // Product and bias are added in f32 and rounded once, as in the GPU's epilogue.
  Tensor in_f32 = Tensor::empty({M, N}, DType::f32);
  kernels::matmul_fused(a.to(DType::f32), false, b.to(DType::f32), false, in_f32, {bias.to(DType::f32), {}});
  CHECK(same_bits(c, in_f32.to(DType::bf16)));

  // A weight gradient dW += dY^T X into f32, with the bias gradient Σ_rows dY in f32.
  const std::int64_t T = 41;
  const Tensor dy = random_bf16({T, M}, rng), x = random_bf16({T, K}, rng);
  const Tensor dw0 = random_tensor({M, K}, rng, -1, 1, DType::f32);
  Tensor dw = dw0.clone(), db = poisoned({M}, DType::f32);
  kernels::matmul_fused(dy, true, x, false, dw, {{}, db}, 1.0, 1.0);
  Tensor dw_ref = wide(dw0), db_ref = Tensor::empty({M}, DType::f64);
  kernels::matmul_fused(wide(dy), true, wide(x), false, dw_ref, {{}, db_ref}, 1.0, 1.0);
  check_close("matmul_fused f32 dW += bf16 dY^T X", dw, dw_ref, f32_bound);
  check_close("matmul_fused f32 bias gradient (columns)", db, db_ref, f32_bound);

  // Untransposed A: row sums, into f32 and into bf16.
  for (DType c_dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(c_dtype));
    Tensor c2 = poisoned({M, N}, c_dtype), rows = poisoned({M}, c_dtype);
    kernels::matmul_fused(a, false, b, false, c2, {{}, rows});
    Tensor c2_ref = Tensor::empty({M, N}, DType::f64), rows_ref = Tensor::empty({M}, DType::f64);
    kernels::matmul_fused(wide(a), false, wide(b), false, c2_ref, {{}, rows_ref});
    const double bound = c_dtype == DType::f32 ? f32_bound : bf16_bound;
    check_close(std::string("matmul_fused ") + std::string(dtype_name(c_dtype)) + " bias gradient (rows)",
                rows, rows_ref, bound);
    check_close(std::string("matmul_fused ") + std::string(dtype_name(c_dtype)) + " C", c2, c2_ref, bound);
  }
}

TEST_CASE("matmul_fused, bf16 operands: product, addend and bias rounded once") {
  RandomGenerator rng(3);
  const std::int64_t M = 33, N = 17, K = 45;
  const Tensor a = random_bf16({M, K}, rng), b = random_bf16({K, N}, rng);
  const Tensor bias = random_bf16({N}, rng), addend = random_bf16({M, N}, rng);
  Tensor c = poisoned({M, N}, DType::bf16);
  kernels::matmul_fused(a, false, b, false, c, {bias, {}, addend}, 1.0, 1.0);
  Tensor ref = Tensor::empty({M, N}, DType::f64);
  kernels::matmul_fused(wide(a), false, wide(b), false, ref, {wide(bias), {}, wide(addend)}, 1.0, 1.0);
  check_close("matmul_fused bf16 addend + C + bias", c, ref, bf16_bound);
  Tensor in_f32 = Tensor::empty({M, N}, DType::f32);
  kernels::matmul_fused(a.to(DType::f32), false, b.to(DType::f32), false, in_f32,
                        {bias.to(DType::f32), {}, addend.to(DType::f32)}, 1.0, 1.0);
  CHECK(same_bits(c, in_f32.to(DType::bf16)));
}

TEST_CASE("matmul rejects the combinations the GPU rejects, naming the op") {
  const Tensor a16 = Tensor::full({2, 3}, 1.0, DType::bf16), b16 = Tensor::full({3, 2}, 1.0, DType::bf16);
  const Tensor a32 = a16.to(DType::f32), b32 = b16.to(DType::f32);
  Tensor c16 = Tensor::empty({2, 2}, DType::bf16), c32 = Tensor::empty({2, 2}, DType::f32);
  Tensor c64 = Tensor::empty({2, 2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::matmul(a32, false, b16, false, c32), Contains("matmul: dtypes differ"), Error);
  CHECK_THROWS_WITH_AS(kernels::matmul(a32, false, b32, false, c16), Contains("matmul output"), Error);
  CHECK_THROWS_WITH_AS(kernels::matmul(a16, false, b16, false, c64), Contains("matmul output"), Error);
  const Tensor bias16 = Tensor::full({2}, 1.0, DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::matmul_fused(a16, false, b16, false, c32, {bias16, {}}),
                       Contains("matmul_fused bias"), Error);
}

#else  // ---- GPU against the CPU (cuda_matmul_tests) ----

// GPU matrix products (cuBLASLt) against the CPU reference in f64: every transpose
// combination, odd sizes, alpha/beta (beta = 1 accumulation), batches, bf16 operands with
// f32 or bf16 output, and the bias / bias-gradient epilogues.

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

// check_matmul of each case under the four transpose combinations (the cases' own trans_a
// and trans_b overridden), the cases in order within each combination, seeded seed + 1,
// seed + 2, ...
void check_every_transpose(std::uint64_t seed, std::initializer_list<MatmulCase> cases) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (MatmulCase m : cases) {
        m.trans_a = ta;
        m.trans_b = tb;
        check_matmul(m, ++seed);
      }
}

}  // namespace

TEST_CASE("matmul f32: transposes, odd sizes, alpha and beta") {
  check_every_transpose(1, {{0, 37, 29, 53, false, false, DType::f32, DType::f32},
                            {0, 1, 7, 3, false, false, DType::f32, DType::f32},
                            {0, 64, 48, 130, false, false, DType::f32, DType::f32, 0.5, 1.0},
                            {0, 33, 17, 65, false, false, DType::f32, DType::f32, 1.0, 0.25}});
}

TEST_CASE("matmul f32 batched (rank 3)") {
  check_every_transpose(50, {{3, 19, 23, 31, false, false, DType::f32, DType::f32}});
}

TEST_CASE("matmul bf16 operands, f32 and bf16 outputs, accumulation into f32 and bf16") {
  check_every_transpose(80, {{0, 72, 40, 256, false, false, DType::bf16, DType::f32},
                             {0, 72, 40, 256, false, false, DType::bf16, DType::bf16},
                             {0, 64, 32, 96, false, false, DType::bf16, DType::f32, 1.0, 1.0},
                             // bf16 C accumulated (an activation's gradient summed in place).
                             {0, 64, 32, 96, false, false, DType::bf16, DType::bf16, 1.0, 1.0},
                             {0, 37, 29, 53, false, false, DType::bf16, DType::f32}});  // unaligned rows
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

        // An addend read in place of C (cuBLASLt's C ≠ D), with and without the bias.
        const Tensor addend = random_cpu({M, N}, ab, rng);
        for (bool with_bias : {false, true}) {
          CAPTURE(with_bias);
          const Tensor b_ref = with_bias ? as_f64_cpu(bias) : Tensor();
          Tensor ref3 = Tensor::empty({M, N}, DType::f64);
          kernels::matmul_fused(as_f64_cpu(a), ta, as_f64_cpu(b), tb, ref3, {b_ref, {}, as_f64_cpu(addend)}, 1.0, 1.0);
          Tensor c3 = poisoned_cuda({M, N}, ab);
          const Tensor addend_gpu = addend.to(Device::cuda);
          kernels::matmul_fused(a.to(Device::cuda), ta, b.to(Device::cuda), tb, c3,
                                {with_bias ? bias.to(Device::cuda) : Tensor(), {}, addend_gpu}, 1.0, 1.0);
          CHECK(relative_error(c3, ref3) < bound);
          CHECK(same_bits(addend_gpu.to(Device::cpu), addend));
        }
      }
}

TEST_CASE("linear_parts on the GPU, bf16: parts, input gradient and each part's f32 weight-gradient rows") {
  namespace ag = autograd;
  RandomGenerator rng(140);
  const std::int64_t rows = 72, in = 64, widths[] = {40, 24};
  const Tensor x = random_cpu({rows, in}, DType::bf16, rng), w = random_cpu({64, in}, DType::bf16, rng);
  const Tensor dy0 = random_cpu({rows, widths[0]}, DType::bf16, rng);
  const Tensor dy1 = random_cpu({rows, widths[1]}, DType::bf16, rng);
  // The f64 reference on the CPU, the same op.
  const auto run = [&](Device device, DType dtype, DType grad_dtype) {
    Tensor xd = x.to(dtype).to(device), wd = w.to(dtype).to(device);
    xd.set_requires_grad(true);
    wd.set_requires_grad(true);
    wd.set_grad(Tensor::zeros({64, in}, grad_dtype, device));
    const auto parts = ag::linear_parts(xd, wd, {widths[0], widths[1]});
    ag::backward(ag::add(ag::sum(ag::mul(parts[0], dy0.to(dtype).to(device))),
                         ag::sum(ag::mul(parts[1], dy1.to(dtype).to(device)))));
    return std::vector<Tensor>{parts[0], parts[1], xd.grad(), wd.grad()};
  };
  const auto ref = run(Device::cpu, DType::f64, DType::f64);
  const auto got = run(Device::cuda, DType::bf16, DType::f32);
  CHECK(got[3].dtype() == DType::f32);
  for (std::size_t k = 0; k < ref.size(); ++k) {
    CAPTURE(k);
    CHECK(relative_error(got[k], ref[k]) < bf16_bound);
  }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
