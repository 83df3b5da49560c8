// bf16 on the CPU backend (emulated: kernels/cpu/bf16_emulation.h), with the GPU's dtype
// rules. Every op runs on bf16 inputs and is compared with the f64 reference computed on
// the same (already rounded) values: ≤ 1e-2 where the output is bf16 (DESIGN.md's bound
// for bf16 inputs), ≤ 1e-5 where it is f32, since then nothing is rounded to bf16 and only
// f32 accumulation stands between the two. Rejected combinations name the op.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/reduce.h"
#include "kernels/rmsnorm.h"
#include "kernels/scan.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
using doctest::Contains;
using kernels::ScanDirection;

namespace {

constexpr double bf16_bound = 1e-2;
constexpr double f32_bound = 1e-5;

Tensor random_of(DType dtype, const Shape& shape, RandomGenerator& rng, double low = -1.0,
                 double high = 1.0) {
  return random_tensor(shape, rng, low, high, DType::f32).to(dtype);
}
Tensor random_bf16(const Shape& shape, RandomGenerator& rng, double low = -1.0, double high = 1.0) {
  return random_of(DType::bf16, shape, rng, low, high);
}
// The same values in f64 (exact for bf16 and f32): the reference's inputs.
Tensor wide(const Tensor& t) { return t.to(DType::f64); }
// An output every element of which must be written: NaN fails any bound.
Tensor poisoned(const Shape& shape, DType dtype) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype);
}
bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

// The worst error per check, printed by the last test case.
std::map<std::string, double>& worst_errors() {
  static std::map<std::string, double> worst;
  return worst;
}

void check_close(const std::string& what, const Tensor& got, const Tensor& ref, double bound) {
  const double error = relative_error(got, ref);
  double& worst = worst_errors()[what];
  worst = std::isnan(error) ? error : std::max(worst, error);
  CHECK_MESSAGE(error <= bound, what, ": relative error ", error, " above ", bound);
}

}  // namespace

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

TEST_CASE("elementwise ops in bf16: broadcasts, a view operand, in-place updates") {
  RandomGenerator rng(3);
  const Tensor a = random_bf16({6, 7, 13}, rng, -3, 3).slice(1, 6);  // a view, [5, 7, 13]
  const Tensor b = random_bf16({5, 7, 13}, rng, -3, 3);
  const Tensor bias = random_bf16({13}, rng);
  const Tensor s = random_bf16({5, 7, 13}, rng, 0.01, 0.99);  // a sigmoid output
  using Inputs = std::vector<Tensor>;  // a, b, bias, s
  const std::vector<std::pair<const char*, std::function<void(const Inputs&, Tensor&)>>> ops{
      {"add (broadcast bias)", [](const Inputs& in, Tensor& out) { kernels::add(in[0], in[2], out); }},
      {"mul", [](const Inputs& in, Tensor& out) { kernels::mul(in[0], in[1], out); }},
      {"scale", [](const Inputs& in, Tensor& out) { kernels::scale(in[0], -0.37, out); }},
      {"sigmoid", [](const Inputs& in, Tensor& out) { kernels::sigmoid_forward(in[0], out); }},
      {"sigmoid_backward", [](const Inputs& in, Tensor& out) { kernels::sigmoid_backward(in[3], in[1], out); }},
      {"gelu", [](const Inputs& in, Tensor& out) { kernels::gelu_forward(in[0], out); }},
      {"gelu_backward", [](const Inputs& in, Tensor& out) { kernels::gelu_backward(in[0], in[1], out); }},
      {"accumulate bf16", [](const Inputs& in, Tensor& out) {
         out.copy_from(in[0]);
         kernels::accumulate(out, in[1]);
       }},
      {"scale_inplace", [](const Inputs& in, Tensor& out) {
         out.copy_from(in[0]);
         kernels::scale_inplace(out, 3.0);
       }},
  };
  const Inputs in16{a, b, bias, s}, in64{wide(a), wide(b), wide(bias), wide(s)};
  for (const auto& [name, run] : ops) {
    CAPTURE(name);
    Tensor got = poisoned(a.shape(), DType::bf16), ref = Tensor::empty(a.shape(), DType::f64);
    run(in16, got);
    run(in64, ref);
    check_close(name, got, ref, bf16_bound);
  }
  Tensor out32 = Tensor::empty(a.shape(), DType::f32);
  CHECK_THROWS_WITH_AS(kernels::add(a.to(DType::f32), b, out32), Contains("add"), Error);
  CHECK_THROWS_WITH_AS(kernels::mul(a, b, out32), Contains("mul"), Error);
}

TEST_CASE("bf16 into f32: accumulate and sum_to_trailing never round to bf16") {
  RandomGenerator rng(4);
  const Tensor dst0 = random_tensor({5, 7, 13}, rng, -1, 1, DType::f32);
  const Tensor src = random_bf16({6, 7, 13}, rng).slice(0, 5);
  Tensor dst = dst0.clone(), dst_ref = wide(dst0);
  kernels::accumulate(dst, src);
  kernels::accumulate(dst_ref, wide(src));
  check_close("accumulate f32 += bf16", dst, dst_ref, f32_bound);

  // 1001 rows of 37 columns, through a slice and a reshape.
  const Tensor in = random_bf16({1002, 37}, rng).slice(1, 1002).reshape({7, 143, 37});
  Tensor sum32 = poisoned({37}, DType::f32), sum16 = poisoned({37}, DType::bf16);
  Tensor sum_ref = Tensor::empty({37}, DType::f64);
  kernels::sum_to_trailing(in, sum32);
  kernels::sum_to_trailing(in, sum16);
  kernels::sum_to_trailing(wide(in), sum_ref);
  check_close("sum_to_trailing bf16 -> f32", sum32, sum_ref, f32_bound);
  check_close("sum_to_trailing bf16 -> bf16", sum16, sum_ref, bf16_bound);

  Tensor dst16 = dst0.to(DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::accumulate(dst16, dst0), Contains("accumulate"), Error);
  Tensor dst64 = wide(dst0);
  CHECK_THROWS_WITH_AS(kernels::accumulate(dst64, src), Contains("accumulate"), Error);
  CHECK_THROWS_WITH_AS(kernels::sum_to_trailing(in.to(DType::f32), sum16), Contains("sum_to_trailing"), Error);
  Tensor sum64 = Tensor::empty({37}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::sum_to_trailing(in, sum64), Contains("sum_to_trailing"), Error);
}

TEST_CASE("embedding in bf16: an exact gather, a scatter-add into f32 or bf16") {
  RandomGenerator rng(6);
  const std::int64_t V = 50, D = 37, count = 301;
  const Tensor table = random_bf16({V, D}, rng);
  Tensor ids = random_ids({count}, rng, static_cast<std::int32_t>(V));
  ids.data<std::int32_t>()[7] = ids.data<std::int32_t>()[8] = static_cast<std::int32_t>(V - 1);
  Tensor out = poisoned({7, 43, D}, DType::bf16), out_ref = Tensor::empty({count, D}, DType::f64);
  kernels::embedding_forward(table, ids.reshape({7, 43}), out);
  kernels::embedding_forward(wide(table), ids, out_ref);
  check_close("embedding_forward", out, out_ref.reshape({7, 43, D}), 0.0);

  const Tensor dout = random_bf16({count, D}, rng);
  const Tensor dtable0 = random_tensor({V, D}, rng, -1, 1, DType::f32);
  Tensor dtable_ref = wide(dtable0);
  kernels::embedding_backward(ids, wide(dout), dtable_ref);
  for (DType dtable_dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtable_dtype));
    Tensor dtable = dtable0.to(dtable_dtype);
    kernels::embedding_backward(ids.reshape({7, 43}), dout.reshape({7, 43, D}), dtable);
    const bool f32 = dtable_dtype == DType::f32;
    check_close(std::string("embedding_backward into ") + std::string(dtype_name(dtable_dtype)), dtable,
                dtable_ref, f32 ? f32_bound : bf16_bound);
  }
  Tensor dtable16 = dtable0.to(DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::embedding_backward(ids, dout.to(DType::f32), dtable16),
                       Contains("embedding_backward"), Error);
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

TEST_CASE("worst relative errors against the f64 reference") {
  for (const auto& [what, error] : worst_errors()) std::printf("  %-48s %.3g\n", what.c_str(), error);
}
