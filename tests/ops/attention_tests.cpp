// Attention with segment masks and the rotary embedding (kernels/attention.h,
// kernels/rotary.h, kernels/segments.h; autograd::attention, autograd::rotary). Their GPU
// cases run in a suite of their own, cuda_attention_tests (tests/ops.cmake); the CUDA
// kernels' own source also runs on the CPU under emulation (ctest attention_kernel_emulation:
// scripts/cuda_emulation/attention_emulation_tests.cpp).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/rotary.h"
#if BIRDIE_OPS_GPU
#include "kernels/cuda/attention_tensor_core.h"
#endif

namespace birdie::testing {
TEST_SUITE_BEGIN("attention");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

// Attention and rotary embedding on the CPU: the reference kernels against a dense
// softmax(QKᵀ/√d + mask)·V written here from the definition of the mask, what may and may
// not flow between tokens (segments, causal order, the prompt), the rotary embedding's
// positions and orthogonality, and f64 finite-difference gradients of both autograd ops.

using kernels::AttentionMask;
using Inputs = std::vector<Tensor>;

namespace {

// Rows of reset bits: several samples, prompt/suffix mixes, a sample of length 1, an empty
// prompt (reset 3), a row whose first token has no bit set (t = 0 starts a segment
// anyway), and a prompt token after a suffix token (the mask's rule, not the packer's
// layout, decides).
const std::vector<std::int32_t> row_a{1, 0, 0, 2, 2, 3, 2, 1, 1, 0, 2, 2, 2};
const std::vector<std::int32_t> row_b{0, 0, 2, 2, 1, 0, 0, 0, 0, 1, 2, 0, 2};
const std::vector<std::int32_t> row_c{3, 2, 2, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0};

Tensor reset_rows(const std::vector<std::vector<std::int32_t>>& rows) {
  std::vector<std::int32_t> all;
  for (const auto& r : rows) all.insert(all.end(), r.begin(), r.end());
  return Tensor::from_values<std::int32_t>(all, {std::int64_t(rows.size()), std::int64_t(rows[0].size())});
}

// The mask straight from its definition (kernels/attention.h), by segment numbers.
bool sees(const std::int32_t* reset, std::int64_t i, std::int64_t j, AttentionMask mask) {
  auto segment = [&](std::int64_t t) {
    int s = 0;
    for (std::int64_t u = 1; u <= t; ++u) s += (reset[u] & 1) ? 1 : 0;
    return s;
  };
  if (segment(i) != segment(j)) return false;
  const bool prompt_i = (reset[i] & 2) == 0, prompt_j = (reset[j] & 2) == 0;
  return j <= i || (mask == AttentionMask::prefix && prompt_i && prompt_j);
}

// Dense softmax(QKᵀ/√d + mask)·V per (row, head), in f64; also the row log-sum-exp.
void dense_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                     AttentionMask mask, Tensor& out, Tensor& lse) {
  const std::int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), D = q.dim(3);
  const auto Q = q.to_vector<double>(), K = k.to_vector<double>(), V = v.to_vector<double>();
  const auto R = reset.to_vector<std::int32_t>();
  out = Tensor::empty(q.shape(), DType::f64);
  lse = Tensor::empty({B, H, T}, DType::f64);
  double* o = out.data<double>();
  double* l = lse.data<double>();
  auto at = [&](std::int64_t b, std::int64_t t, std::int64_t h) { return ((b * T + t) * H + h) * D; };
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h) {
      std::vector<double> S(T * T, -std::numeric_limits<double>::infinity());
      for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j < T; ++j)
          if (sees(R.data() + b * T, i, j, mask)) {
            double s = 0;
            for (std::int64_t d = 0; d < D; ++d) s += Q[at(b, i, h) + d] * K[at(b, j, h) + d];
            S[i * T + j] = s / std::sqrt(double(D));
          }
      for (std::int64_t i = 0; i < T; ++i) {
        double m = -std::numeric_limits<double>::infinity(), z = 0;
        for (std::int64_t j = 0; j < T; ++j) m = std::max(m, S[i * T + j]);
        for (std::int64_t j = 0; j < T; ++j) z += std::exp(S[i * T + j] - m);
        l[(b * H + h) * T + i] = m + std::log(z);
        for (std::int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (std::int64_t j = 0; j < T; ++j) acc += std::exp(S[i * T + j] - m) / z * V[at(b, j, h) + d];
          o[at(b, i, h) + d] = acc;
        }
      }
    }
}

struct Qkv {
  Tensor q, k, v;
};
Qkv random_qkv(const Shape& shape, RandomGenerator& rng, DType dtype = DType::f64) {
  // Spread wide enough that the softmax is far from uniform.
  return {random_tensor(shape, rng, -2, 2, dtype), random_tensor(shape, rng, -2, 2, dtype),
          random_tensor(shape, rng, -1, 1, dtype)};
}

Tensor run_attention(const Qkv& x, const Tensor& reset, AttentionMask mask) {
  Tensor out = Tensor::empty(x.q.shape(), x.q.dtype());
  Tensor lse = Tensor::empty({x.q.dim(0), x.q.dim(2), x.q.dim(1)}, kernels::attention_lse_dtype(x.q.dtype()));
  kernels::attention_forward(x.q, x.k, x.v, reset, mask, out, lse);
  return out;
}

std::string name(AttentionMask mask) { return mask == AttentionMask::causal ? "causal" : "prefix"; }

// Adds `delta` to every channel of token t (all heads) of q, k and v.
void perturb_token(Qkv& x, std::int64_t b, std::int64_t t, double delta) {
  const std::int64_t T = x.q.dim(1), width = x.q.dim(2) * x.q.dim(3);
  for (Tensor* m : {&x.q, &x.k, &x.v}) {
    *m = m->clone();
    double* p = m->data<double>() + (b * T + t) * width;
    for (std::int64_t c = 0; c < width; ++c) p[c] += delta;
  }
}

// Whether token t of row b has bitwise the same output (all heads) in both.
bool token_unchanged(const Tensor& a, const Tensor& c, std::int64_t b, std::int64_t t) {
  const std::int64_t T = a.dim(1), width = a.dim(2) * a.dim(3);
  const double* pa = a.data<double>() + (b * T + t) * width;
  const double* pc = c.data<double>() + (b * T + t) * width;
  for (std::int64_t i = 0; i < width; ++i)
    if (pa[i] != pc[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("attention: the CPU reference equals a dense masked softmax, both masks, f64 f32 bf16") {
  RandomGenerator rng(1);
  const Tensor reset = reset_rows({row_a, row_b, row_c});
  for (std::int64_t Dh : {6, 8})
    for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
      CAPTURE(Dh);
      CAPTURE(name(mask));
      const Qkv x = random_qkv({3, 13, 3, Dh}, rng);
      Tensor out_ref, lse_ref;
      dense_attention(x.q, x.k, x.v, reset, mask, out_ref, lse_ref);
      Tensor out = Tensor::empty(x.q.shape(), DType::f64), lse = Tensor::empty({3, 3, 13}, DType::f64);
      kernels::attention_forward(x.q, x.k, x.v, reset, mask, out, lse);
      CHECK(max_abs_difference(out, out_ref) < 1e-13);
      CHECK(max_abs_difference(lse, lse_ref) < 1e-13);
      for (DType dtype : {DType::f32, DType::bf16}) {
        CAPTURE(dtype_name(dtype));
        // The reference on the same (rounded) input values, in f64.
        const Qkv y{x.q.to(dtype), x.k.to(dtype), x.v.to(dtype)};
        dense_attention(y.q.to(DType::f64), y.k.to(DType::f64), y.v.to(DType::f64), reset, mask,
                        out_ref, lse_ref);
        Tensor o = Tensor::empty(x.q.shape(), dtype), l = Tensor::empty({3, 3, 13}, DType::f32);
        kernels::attention_forward(y.q, y.k, y.v, reset, mask, o, l);
        const double bound = dtype == DType::f32 ? 1e-6 : 1e-2;
        MESSAGE(dtype_name(dtype), " ", name(mask), " Dh=", Dh, ": out rel ", relative_error(o, out_ref),
                ", lse rel ", relative_error(l, lse_ref));
        CHECK(relative_error(o, out_ref) < bound);
        CHECK(relative_error(l, lse_ref) < 1e-6);  // lse is f32 for bf16 inputs too
      }
    }
}

TEST_CASE("attention: a token of length-1 sample sees only itself, so its output is its value") {
  RandomGenerator rng(2);
  const Tensor reset = reset_rows({row_a});  // token 7 is a sample of length 1
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
    const Qkv x = random_qkv({1, 13, 3, 8}, rng);
    const Tensor out = run_attention(x, reset, mask);
    const auto o = out.to_vector<double>(), v = x.v.to_vector<double>();
    for (std::int64_t c = 7 * 24; c < 8 * 24; ++c) CHECK(o[c] == doctest::Approx(v[c]).epsilon(1e-14));
  }
}

TEST_CASE("attention: nothing crosses a segment boundary, in either direction") {
  RandomGenerator rng(3);
  const Tensor reset = reset_rows({row_a, row_c});
  // Row 0's segments: [0, 5), [5, 7), [7, 8), [8, 13); row 1's: [0, 3), [3, 6), [6, 13).
  const std::vector<std::vector<std::int64_t>> starts{{0, 5, 7, 8, 13}, {0, 3, 6, 13}};
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
    CAPTURE(name(mask));
    const Qkv x = random_qkv({2, 13, 3, 6}, rng);
    const Tensor base = run_attention(x, reset, mask);
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::size_t s = 0; s + 1 < starts[b].size(); ++s)
        for (std::int64_t t = starts[b][s]; t < starts[b][s + 1]; ++t) {
          CAPTURE(b);
          CAPTURE(t);
          Qkv y = x;
          perturb_token(y, b, t, 0.75);
          const Tensor changed = run_attention(y, reset, mask);
          for (std::int64_t u = 0; u < 13; ++u) {
            CAPTURE(u);
            const bool same_segment = u >= starts[b][s] && u < starts[b][s + 1];
            if (!same_segment) CHECK(token_unchanged(base, changed, b, u));
            CHECK(token_unchanged(base, changed, 1 - b, u));  // the other row
          }
          CHECK_FALSE(token_unchanged(base, changed, b, t));  // the perturbation itself shows
        }
  }
}

TEST_CASE("attention: causal order, and the prompt reads itself both ways but not the suffix") {
  RandomGenerator rng(4);
  // One sample: prompt [0, 6), suffix [6, 11).
  const Tensor reset = reset_rows({{1, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2}});
  const Qkv x = random_qkv({1, 11, 3, 8}, rng);
  const Tensor causal = run_attention(x, reset, AttentionMask::causal);
  const Tensor prefix = run_attention(x, reset, AttentionMask::prefix);
  for (std::int64_t j = 0; j < 11; ++j) {
    CAPTURE(j);
    Qkv y = x;
    perturb_token(y, 0, j, -0.5);
    const Tensor c = run_attention(y, reset, AttentionMask::causal);
    const Tensor p = run_attention(y, reset, AttentionMask::prefix);
    for (std::int64_t i = 0; i < 11; ++i) {
      CAPTURE(i);
      // Causal: token j reaches exactly the outputs i ≥ j.
      CHECK(token_unchanged(causal, c, 0, i) == (i < j));
      // Prefix: a prompt token reaches every prompt output and every later output; a
      // suffix token only the outputs at or after it.
      const bool reaches = j < 6 ? (i < 6 || i >= j) : i >= j;
      CHECK(token_unchanged(prefix, p, 0, i) == !reaches);
    }
  }
  // Only the prompt's outputs differ between the masks (but its last token's: it sees
  // tokens 0..5 either way); a suffix token sees the same keys in both.
  for (std::int64_t i = 0; i < 11; ++i) CHECK(token_unchanged(causal, prefix, 0, i) == (i >= 5));
}

TEST_CASE("attention: operands are checked, with the operand named") {
  const Tensor q = Tensor::zeros({1, 4, 2, 8}, DType::f32);
  Tensor out = Tensor::empty(q.shape(), DType::f32), lse = Tensor::empty({1, 2, 4}, DType::f32);
  const Tensor reset = Tensor::zeros({1, 4}, DType::i32);
  const Tensor bad_k = Tensor::zeros({1, 4, 2, 6}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::attention_forward(q, bad_k, q, reset, AttentionMask::causal, out, lse),
                       doctest::Contains("k f32[1, 4, 2, 6]"), Error);
  Tensor bad_lse = Tensor::empty({1, 4, 2}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::attention_forward(q, q, q, reset, AttentionMask::causal, out, bad_lse),
                       doctest::Contains("lse"), Error);
  const Tensor bad_reset = Tensor::zeros({1, 4}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::attention_forward(q, q, q, bad_reset, AttentionMask::causal, out, lse),
                       doctest::Contains("reset"), Error);
  Tensor odd = Tensor::zeros({1, 4, 2, 7}, DType::f32);
  CHECK_THROWS_WITH_AS(ag::rotary(odd, reset), doctest::Contains("even head_dim"), Error);
  // Segments of another batch's shape, or bounds that are not [2, B, T].
  const kernels::Segments other = kernels::segments_of(Tensor::zeros({1, 5}, DType::i32));
  CHECK_THROWS_WITH_AS(kernels::attention_forward(q, q, q, other, AttentionMask::causal, out, lse),
                       doctest::Contains("reset mask [batch, time]"), Error);
  kernels::Segments short_bounds = kernels::segments_of(reset);
  short_bounds.bounds = Tensor::zeros({1, 1, 4}, DType::i32);
  CHECK_THROWS_WITH_AS(kernels::rotary_forward(q, short_bounds, 10000, out),
                       doctest::Contains("segment bounds [2, batch, time]"), Error);
}

TEST_CASE("segments: each token's segment start and end, computed once per batch") {
  const Tensor reset = reset_rows({row_a, row_b, row_c});
  const kernels::Segments s = kernels::segments_of(reset);
  REQUIRE(s.bounds.shape() == Shape{2, 3, 13});
  const std::int32_t* r = reset.data<std::int32_t>();
  const std::int32_t* bounds = s.bounds.data<std::int32_t>();
  for (std::int64_t b = 0; b < 3; ++b)
    for (std::int64_t t = 0; t < 13; ++t) {
      std::int64_t start = t, end = t + 1;  // walked from the definition: t = 0 and bit 0 start a segment
      while (start > 0 && !(r[b * 13 + start] & 1)) --start;
      while (end < 13 && !(r[b * 13 + end] & 1)) ++end;
      CHECK(bounds[b * 13 + t] == start);
      CHECK(bounds[(3 + b) * 13 + t] == end);
    }
  // The shared segments give what the per-call form gives, forward and backward.
  RandomGenerator rng(5);
  const Tensor q = random_tensor({3, 13, 2, 8}, rng, -1.0, 1.0, DType::f64), v = random_tensor({3, 13, 2, 8}, rng, -1.0, 1.0, DType::f64);
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix})
    CHECK(max_abs_difference(ag::attention(ag::rotary(q, s), q, v, s, mask),
                       ag::attention(ag::rotary(q, reset), q, v, reset, mask)) == 0.0);
}

TEST_CASE("gradient: attention q, k, v, both masks, several segments") {
  RandomGenerator rng(5);
  const Tensor reset = reset_rows({row_a, row_b});
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix})
    for (std::int64_t Dh : {6, 8}) {
      CAPTURE(name(mask));
      CAPTURE(Dh);
      const Qkv x = random_qkv({2, 13, 3, Dh}, rng);
      check_gradients(
          [&](const Inputs& in) { return weighted_sum(ag::attention(in[0], in[1], in[2], in[3], mask)); },
          {x.q, x.k, x.v, reset});
    }
}

TEST_CASE("gradient: rotary, and rotary feeding attention") {
  RandomGenerator rng(6);
  const Tensor reset = reset_rows({row_a, row_c});
  check_gradients([&](const Inputs& in) { return weighted_sum(ag::rotary(in[0], in[1], 100.0)); },
                  {random_tensor({2, 13, 3, 6}, rng), reset});
  const Qkv x = random_qkv({2, 13, 3, 8}, rng);
  check_gradients(
      [&](const Inputs& in) {
        return weighted_sum(ag::attention(ag::rotary(in[0], in[3]), ag::rotary(in[1], in[3]), in[2],
                                          in[3], AttentionMask::prefix));
      },
      {x.q, x.k, x.v, reset});
}

TEST_CASE("rotary: the formula, positions restarting at every sample") {
  RandomGenerator rng(7);
  const std::int64_t H = 3, Dh = 8, L = 5;
  const Tensor sample = random_tensor({1, L, H, Dh}, rng);
  // The sample alone at offset 0, then after a 4-token sample (and followed by padding).
  const Tensor alone_reset = reset_rows({{1, 0, 0, 2, 2}});
  const Tensor packed_reset = reset_rows({{1, 0, 2, 2, 1, 0, 0, 2, 2, 1, 1}});
  Tensor packed = random_tensor({1, 11, H, Dh}, rng);
  const std::int64_t width = H * Dh;
  std::copy_n(sample.data<double>(), L * width, packed.data<double>() + 4 * width);
  Tensor alone_y = Tensor::empty(sample.shape(), DType::f64), packed_y = Tensor::empty(packed.shape(), DType::f64);
  kernels::rotary_forward(sample, alone_reset, 10000, alone_y);
  kernels::rotary_forward(packed, packed_reset, 10000, packed_y);
  const double* a = alone_y.data<double>();
  const double* p = packed_y.data<double>() + 4 * width;
  for (std::int64_t i = 0; i < L * width; ++i) CHECK(a[i] == p[i]);
  // Token 0 of a sample is not rotated; token 3, pair d = 1, head 2, by 3 · 10000^(−2/8).
  const double* x = sample.data<double>();
  for (std::int64_t c = 0; c < width; ++c) CHECK(a[c] == x[c]);
  const double angle = 3 * std::pow(10000.0, -2.0 / 8);
  const std::int64_t at = 3 * width + 2 * Dh + 1;
  CHECK(a[at] == doctest::Approx(x[at] * std::cos(angle) - x[at + 4] * std::sin(angle)).epsilon(1e-14));
  CHECK(a[at + 4] == doctest::Approx(x[at + 4] * std::cos(angle) + x[at] * std::sin(angle)).epsilon(1e-14));
}

TEST_CASE("rotary: norms are preserved, the backward is the inverse, in place works") {
  RandomGenerator rng(8);
  const Tensor reset = reset_rows({row_a, row_b});
  const Tensor x = random_tensor({2, 13, 3, 10}, rng);
  Tensor y = Tensor::empty(x.shape(), DType::f64), back = Tensor::empty(x.shape(), DType::f64);
  kernels::rotary_forward(x, reset, 10000, y);
  kernels::rotary_backward(y, reset, 10000, back);
  CHECK(max_abs_difference(back, x) < 1e-14);
  const auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
  for (std::size_t head = 0; head < xv.size() / 10; ++head) {
    double nx = 0, ny = 0;
    for (int d = 0; d < 10; ++d) {
      nx += xv[head * 10 + d] * xv[head * 10 + d];
      ny += yv[head * 10 + d] * yv[head * 10 + d];
    }
    CHECK(ny == doctest::Approx(nx).epsilon(1e-14));
  }
  Tensor in_place = x.clone();
  kernels::rotary_forward(in_place, reset, 10000, in_place);
  CHECK(max_abs_difference(in_place, y) == 0.0);
  // bf16: one rounding of the f32 rotation.
  const Tensor xb = x.to(DType::bf16);
  Tensor yb = Tensor::empty(x.shape(), DType::bf16), yref = Tensor::empty(x.shape(), DType::f64);
  kernels::rotary_forward(xb, reset, 10000, yb);
  kernels::rotary_forward(xb.to(DType::f64), reset, 10000, yref);
  CHECK(relative_error(yb, yref) < 4e-3);
}

TEST_CASE("attention backward: no gradient crosses a segment, and bf16 follows the f64 reference") {
  RandomGenerator rng(9);
  const Tensor reset = reset_rows({row_a, row_c});
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
    CAPTURE(name(mask));
    const Shape shape{2, 13, 3, 8};
    const Qkv x = random_qkv(shape, rng);
    Tensor out = Tensor::empty(shape, DType::f64), lse = Tensor::empty({2, 3, 13}, DType::f64);
    kernels::attention_forward(x.q, x.k, x.v, reset, mask, out, lse);
    // dout nonzero only on row 0's last segment [8, 13): every gradient outside it is 0.
    Tensor dout = random_tensor(shape, rng);
    double* g = dout.data<double>();
    for (std::int64_t b = 0; b < 2; ++b)
      for (std::int64_t t = 0; t < 13; ++t)
        if (b == 1 || t < 8)
          for (std::int64_t c = 0; c < 24; ++c) g[(b * 13 + t) * 24 + c] = 0.0;
    Tensor dq = Tensor::empty(shape, DType::f64), dk = Tensor::empty(shape, DType::f64),
           dv = Tensor::empty(shape, DType::f64);
    kernels::attention_backward(x.q, x.k, x.v, reset, mask, out, lse, dout, dq, dk, dv);
    const Tensor zero = Tensor::zeros(shape, DType::f64);
    // (Inside it some may be 0 too: a query that sees one key has dS = 0.)
    for (const Tensor* grad : {&dq, &dk, &dv})
      for (std::int64_t b = 0; b < 2; ++b)
        for (std::int64_t t = 0; t < 13; ++t)
          if (b == 1 || t < 8) CHECK(token_unchanged(*grad, zero, b, t));
    for (std::int64_t t = 8; t < 13; ++t) CHECK_FALSE(token_unchanged(dv, zero, 0, t));

    // bf16 (emulated): f32 math on the rounded inputs, outputs rounded once.
    const Qkv y{x.q.to(DType::bf16), x.k.to(DType::bf16), x.v.to(DType::bf16)};
    const Tensor dout_b = random_tensor(shape, rng).to(DType::bf16);
    Tensor ob = Tensor::empty(shape, DType::bf16), lb = Tensor::empty({2, 3, 13}, DType::f32);
    kernels::attention_forward(y.q, y.k, y.v, reset, mask, ob, lb);
    Tensor dqb = Tensor::empty(shape, DType::bf16), dkb = Tensor::empty(shape, DType::bf16),
           dvb = Tensor::empty(shape, DType::bf16);
    kernels::attention_backward(y.q, y.k, y.v, reset, mask, ob, lb, dout_b, dqb, dkb, dvb);
    const Qkv w{y.q.to(DType::f64), y.k.to(DType::f64), y.v.to(DType::f64)};
    Tensor lse_ref = Tensor::empty({2, 3, 13}, DType::f64), out_ref = Tensor::empty(shape, DType::f64);
    kernels::attention_forward(w.q, w.k, w.v, reset, mask, out_ref, lse_ref);
    kernels::attention_backward(w.q, w.k, w.v, reset, mask, ob.to(DType::f64), lse_ref,
                                dout_b.to(DType::f64), dq, dk, dv);
    CHECK(relative_error(dqb, dq) < 1e-2);
    CHECK(relative_error(dkb, dk) < 1e-2);
    CHECK(relative_error(dvb, dv) < 1e-2);
  }
}

#else  // ---- GPU against the CPU (cuda_attention_tests) ----

// GPU attention and rotary embedding against the CPU references in f64: random inputs,
// outputs poisoned before each run, odd lengths (77, 300: not multiples of the 16-row
// blocks or 32-token tiles), rows packed with many samples (long ones spanning several
// tiles, a sample of one token, an empty prompt), both masks, head dims 64 and 128,
// forward and backward, f32 and bf16.
//
// Bounds. f32: out and lse within the docs/design.md fp32 bound (1e-5 relative L2; 1e-5 of
// the largest magnitude per element); the gradients within 5e-5 in both measures: each
// is a sum over up to a few hundred tokens of products of two Dh-long f32 dot products,
// and dS = P ⊙ (dP − D) subtracts nearly equal numbers. bf16: the docs/design.md bf16 bound
// (1e-2) and the elementwise bf16 tolerance of tests/cuda_test_support.h. The backward
// reference takes the GPU's own (rounded) forward output for D, as the GPU does, so only
// the arithmetic differs. bf16 at head dims 64 and 128 runs on tensor cores, which round
// P and dS to bf16 before their products (as FlashAttention does): an element then
// carries the absolute error of its terms, so elements are measured against half the
// largest (floor 0.5); a misplaced or unwritten element is still off by O(the largest).
// Every bf16 case at 64 and 128 checks that it took the tensor-core path, and its
// backward is run twice and must agree bit for bit (no atomics).

namespace {

using kernels::AttentionMask;

constexpr Tolerance attention_fp32_forward{fp32_bound, 1e-5, 1.0};
constexpr Tolerance attention_fp32_gradient{5e-5, 5e-5, 1.0};
constexpr Tolerance attention_tensor_core{bf16_bound, 0x1p-6, 0.5};

bool on_tensor_cores(const Tensor& q) {
  return kernels::cuda::attention_tensor_cores_apply(q.dtype(), q.dim(3), {q.raw_data()});
}
Tolerance bf16_attention_tolerance(const Tensor& q) { return on_tensor_cores(q) ? attention_tensor_core : bf16_tolerance; }

// The backward again into fresh outputs: bitwise the same dq, dk, dv.
void check_backward_repeats(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                            AttentionMask mask, const Tensor& out, const Tensor& lse, const Tensor& dout,
                            const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  Tensor dq2 = poisoned_cuda(q.shape(), q.dtype()), dk2 = poisoned_cuda(q.shape(), q.dtype()),
         dv2 = poisoned_cuda(q.shape(), q.dtype());
  kernels::attention_backward(q, k, v, reset, mask, out, lse, dout, dq2, dk2, dv2);
  for (const auto& [a, b] : {std::pair{&dq, &dq2}, {&dk, &dk2}, {&dv, &dv2}}) {
    const Tensor x = a->to(Device::cpu), y = b->to(Device::cpu);
    CHECK(std::memcmp(x.raw_data(), y.raw_data(), x.numel() * dtype_size(x.dtype())) == 0);
  }
}

// Rows of random samples: lengths 1..max_length, each with a random prompt/suffix split
// (prompt 0 → an empty prompt, first token 3). Row 0 opens without bit 0 (t = 0 starts a
// segment anyway); row 1 opens with a one-token sample and an empty-prompt sample.
Tensor random_resets(std::int64_t B, std::int64_t T, std::int64_t max_length, RandomGenerator& rng) {
  std::vector<std::int32_t> reset(B * T);
  for (std::int64_t b = 0; b < B; ++b) {
    std::int32_t* r = reset.data() + b * T;
    std::int64_t t = 0;
    auto place = [&](std::int64_t length, std::int64_t prompt) {
      for (std::int64_t u = 0; u < length && t < T; ++u, ++t)
        r[t] = (u == 0 ? 1 : 0) | (u >= prompt ? 2 : 0);
    };
    if (b == 1) {
      place(1, 1);
      place(6, 0);
    }
    while (t < T) {
      const std::int64_t length = 1 + static_cast<std::int64_t>(rng.uniform_int(max_length));
      place(length, static_cast<std::int64_t>(rng.uniform_int(length + 1)));
    }
    if (b == 0) r[0] &= ~1;
  }
  return Tensor::from_values<std::int32_t>(reset, {B, T});
}

std::string label(DType dtype, std::int64_t T, std::int64_t Dh, AttentionMask mask) {
  return std::string(dtype_name(dtype)) + " T=" + std::to_string(T) + " Dh=" + std::to_string(Dh) +
         (mask == AttentionMask::causal ? " causal" : " prefix");
}

}  // namespace

TEST_CASE("attention forward and backward against the CPU reference") {
  std::uint64_t seed = 100;
  const std::int64_t B = 2, H = 3;
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t T : {77, 300})
      for (std::int64_t Dh : {64, 128, 40})
        for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
          if (Dh == 40 && T == 300) continue;  // one odd head dim (two channels a lane, part-filled)
          const std::string what = label(dtype, T, Dh, mask);
          CAPTURE(what);
          RandomGenerator rng(++seed);
          const Shape shape{B, T, H, Dh};
          const Tensor reset = random_resets(B, T, T / 2, rng);
          const Tensor q = random_cpu(shape, dtype, rng, -2, 2), k = random_cpu(shape, dtype, rng, -2, 2);
          const Tensor v = random_cpu(shape, dtype, rng), dout = random_cpu(shape, dtype, rng);

          Tensor out_ref = Tensor::empty(shape, DType::f64), lse_ref = Tensor::empty({B, H, T}, DType::f64);
          kernels::attention_forward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, out_ref, lse_ref);

          const Tensor qg = q.to(Device::cuda), kg = k.to(Device::cuda), vg = v.to(Device::cuda);
          const Tensor reset_g = reset.to(Device::cuda), dout_g = dout.to(Device::cuda);
          Tensor out = poisoned_cuda(shape, dtype), lse = poisoned_cuda({B, H, T}, DType::f32);
          kernels::attention_forward(qg, kg, vg, reset_g, mask, out, lse);
          if (dtype == DType::bf16 && (Dh == 64 || Dh == 128)) CHECK(on_tensor_cores(qg));
          const Tolerance bf16_tol = bf16_attention_tolerance(qg);
          check_close(out, out_ref, dtype == DType::bf16 ? bf16_tol : attention_fp32_forward, "out");
          check_close(lse, lse_ref, fp32_tolerance, "lse");

          // The reference backward from the GPU's own forward output (D = rowsum(dout ⊙ out)).
          Tensor dq_ref = Tensor::empty(shape, DType::f64), dk_ref = Tensor::empty(shape, DType::f64),
                 dv_ref = Tensor::empty(shape, DType::f64);
          kernels::attention_backward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, as_f64_cpu(out),
                                      lse_ref, as_f64_cpu(dout), dq_ref, dk_ref, dv_ref);
          Tensor dq = poisoned_cuda(shape, dtype), dk = poisoned_cuda(shape, dtype), dv = poisoned_cuda(shape, dtype);
          kernels::attention_backward(qg, kg, vg, reset_g, mask, out, lse, dout_g, dq, dk, dv);
          const Tolerance gradient = dtype == DType::bf16 ? bf16_tol : attention_fp32_gradient;
          check_close(dq, dq_ref, gradient, "dq");
          check_close(dk, dk_ref, gradient, "dk");
          check_close(dv, dv_ref, gradient, "dv");
          if (on_tensor_cores(qg)) check_backward_repeats(qg, kg, vg, reset_g, mask, out, lse, dout_g, dq, dk, dv);
        }
}

TEST_CASE("attention: one long sample (every tile visible) and all one-token samples (nearly all skipped)") {
  std::uint64_t seed = 200;
  const std::int64_t B = 1, T = 131, H = 2, Dh = 64;
  std::vector<std::int32_t> one_sample(T, 0), singles(T, 3);
  for (std::int64_t t = 100; t < T; ++t) one_sample[t] = 2;
  for (const auto& bits : {one_sample, singles})
    for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
      RandomGenerator rng(++seed);
      const Shape shape{B, T, H, Dh};
      const Tensor reset = Tensor::from_values<std::int32_t>(bits, {B, T});
      const Tensor q = random_cpu(shape, DType::f32, rng, -2, 2), k = random_cpu(shape, DType::f32, rng, -2, 2);
      const Tensor v = random_cpu(shape, DType::f32, rng);
      Tensor out_ref = Tensor::empty(shape, DType::f64), lse_ref = Tensor::empty({B, H, T}, DType::f64);
      kernels::attention_forward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, out_ref, lse_ref);
      Tensor out = poisoned_cuda(shape, DType::f32), lse = poisoned_cuda({B, H, T}, DType::f32);
      kernels::attention_forward(q.to(Device::cuda), k.to(Device::cuda), v.to(Device::cuda),
                                 reset.to(Device::cuda), mask, out, lse);
      check_close(out, out_ref, attention_fp32_forward, "out");
      check_close(lse, lse_ref, fp32_tolerance, "lse");
    }
}

TEST_CASE("attention on tensor cores: one long sample, one-token samples, a long prompt, T = 2048") {
  std::uint64_t seed = 250;
  for (std::int64_t T : {300, 2048})
    for (std::int64_t Dh : {64, 128}) {
      const std::int64_t B = 1, H = 2;
      std::vector<std::int32_t> one_sample(T, 0), singles(T, 3), long_prompt(T, 0);
      for (std::int64_t t = T / 3; t < T; ++t) one_sample[t] = 2;
      for (std::int64_t t = 0; t < T; ++t) long_prompt[t] = (t == 0 || t == T / 2 ? 1 : 0) | (t % (T / 2) >= 200 ? 2 : 0);
      for (int pattern = T == 2048 ? 2 : 0; pattern < 3; ++pattern)  // T = 2048: the long prompts alone
        for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
          const std::vector<std::int32_t>& bits = pattern == 0 ? one_sample : pattern == 1 ? singles : long_prompt;
          const std::string what = label(DType::bf16, T, Dh, mask);
          CAPTURE(what);
          RandomGenerator rng(++seed);
          const Shape shape{B, T, H, Dh};
          const Tensor reset = Tensor::from_values<std::int32_t>(bits, {B, T});
          const Tensor q = random_cpu(shape, DType::bf16, rng, -2, 2), k = random_cpu(shape, DType::bf16, rng, -2, 2);
          const Tensor v = random_cpu(shape, DType::bf16, rng), dout = random_cpu(shape, DType::bf16, rng);
          const Tensor qg = q.to(Device::cuda), kg = k.to(Device::cuda), vg = v.to(Device::cuda);
          const Tensor reset_g = reset.to(Device::cuda), dout_g = dout.to(Device::cuda);
          REQUIRE(on_tensor_cores(qg));
          Tensor out_ref = Tensor::empty(shape, DType::f64), lse_ref = Tensor::empty({B, H, T}, DType::f64);
          kernels::attention_forward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, out_ref, lse_ref);
          Tensor out = poisoned_cuda(shape, DType::bf16), lse = poisoned_cuda({B, H, T}, DType::f32);
          kernels::attention_forward(qg, kg, vg, reset_g, mask, out, lse);
          check_close(out, out_ref, attention_tensor_core, "out");
          check_close(lse, lse_ref, fp32_tolerance, "lse");
          Tensor dq_ref = Tensor::empty(shape, DType::f64), dk_ref = Tensor::empty(shape, DType::f64),
                 dv_ref = Tensor::empty(shape, DType::f64);
          kernels::attention_backward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, as_f64_cpu(out),
                                      lse_ref, as_f64_cpu(dout), dq_ref, dk_ref, dv_ref);
          Tensor dq = poisoned_cuda(shape, DType::bf16), dk = poisoned_cuda(shape, DType::bf16),
                 dv = poisoned_cuda(shape, DType::bf16);
          kernels::attention_backward(qg, kg, vg, reset_g, mask, out, lse, dout_g, dq, dk, dv);
          check_close(dq, dq_ref, attention_tensor_core, "dq");
          check_close(dk, dk_ref, attention_tensor_core, "dk");
          check_close(dv, dv_ref, attention_tensor_core, "dv");
          check_backward_repeats(qg, kg, vg, reset_g, mask, out, lse, dout_g, dq, dk, dv);
        }
    }
}

// A copy of `t` on the GPU whose data starts 2 bytes into its allocation: not 16-byte
// aligned, so the dispatch must take the CUDA-core kernels.
Tensor unaligned_cuda_copy(const Tensor& t) {
  Tensor flat = Tensor::empty({t.numel() + 1}, t.dtype(), Device::cuda);
  Tensor view = flat.slice(1, t.numel() + 1).reshape(t.shape());
  view.copy_from(t.to(Device::cuda));
  return view;
}

TEST_CASE("attention: unaligned bf16 operands at head dim 64 take the CUDA-core kernels, still right") {
  RandomGenerator rng(270);
  const std::int64_t B = 2, T = 77, H = 2, Dh = 64;
  const Shape shape{B, T, H, Dh};
  const Tensor reset = random_resets(B, T, T / 2, rng);
  const Tensor q = random_cpu(shape, DType::bf16, rng, -2, 2), k = random_cpu(shape, DType::bf16, rng, -2, 2);
  const Tensor v = random_cpu(shape, DType::bf16, rng);
  const Tensor qg = unaligned_cuda_copy(q), kg = unaligned_cuda_copy(k), vg = unaligned_cuda_copy(v);
  REQUIRE_FALSE(on_tensor_cores(qg));
  REQUIRE(on_tensor_cores(q.to(Device::cuda)));
  for (AttentionMask mask : {AttentionMask::causal, AttentionMask::prefix}) {
    Tensor out_ref = Tensor::empty(shape, DType::f64), lse_ref = Tensor::empty({B, H, T}, DType::f64);
    kernels::attention_forward(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), reset, mask, out_ref, lse_ref);
    Tensor out = poisoned_cuda(shape, DType::bf16), lse = poisoned_cuda({B, H, T}, DType::f32);
    kernels::attention_forward(qg, kg, vg, reset.to(Device::cuda), mask, out, lse);
    check_close(out, out_ref, bf16_tolerance, "out (CUDA cores)");
    check_close(lse, lse_ref, fp32_tolerance, "lse (CUDA cores)");
  }
}

TEST_CASE("rotary forward and backward against the CPU reference") {
  std::uint64_t seed = 300;
  const std::int64_t B = 2, H = 3;
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t T : {77, 300})
      for (std::int64_t Dh : {64, 128, 6}) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(T);
        CAPTURE(Dh);
        RandomGenerator rng(++seed);
        const Shape shape{B, T, H, Dh};
        const Tensor reset = random_resets(B, T, 200, rng);
        const Tensor x = random_cpu(shape, dtype, rng);
        Tensor y_ref = Tensor::empty(shape, DType::f64), dx_ref = Tensor::empty(shape, DType::f64);
        kernels::rotary_forward(as_f64_cpu(x), reset, 10000, y_ref);
        kernels::rotary_backward(as_f64_cpu(x), reset, 10000, dx_ref);
        const Tensor xg = x.to(Device::cuda), reset_g = reset.to(Device::cuda);
        Tensor y = poisoned_cuda(shape, dtype), dx = poisoned_cuda(shape, dtype);
        kernels::rotary_forward(xg, reset_g, 10000, y);
        kernels::rotary_backward(xg, reset_g, 10000, dx);
        check_close(y, y_ref, tolerance_for(dtype), "rotary forward");
        check_close(dx, dx_ref, tolerance_for(dtype), "rotary backward");
        // In place, and the backward undoes the forward.
        Tensor z = xg.clone();
        kernels::rotary_forward(z, reset_g, 10000, z);
        check_close(z, y_ref, tolerance_for(dtype), "rotary in place");
        kernels::rotary_backward(z, reset_g, 10000, z);
        // The backward rotates the forward's output, already rounded: in bf16 that rounding
        // (half an ulp of the pair's magnitude, up to the largest) lands in both elements of
        // the pair, so small elements are measured against the largest (floor 1).
        check_close(z, as_f64_cpu(x), dtype == DType::bf16 ? Tolerance{bf16_bound, 0x1p-6, 1.0} : fp32_tolerance,
                    "rotary round trip");
      }
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
