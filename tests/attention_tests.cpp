// Attention and rotary embedding on the CPU: the reference kernels against a dense
// softmax(QKᵀ/√d + mask)·V written here from the definition of the mask, what may and may
// not flow between tokens (segments, causal order, the prompt), the rotary embedding's
// positions and orthogonality, and f64 finite-difference gradients of both autograd ops.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/rotary.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace ag = birdie::autograd;
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
