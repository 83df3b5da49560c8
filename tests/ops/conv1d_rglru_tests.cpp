// Hawk's two kernels: the causal convolution with resets (kernels/conv1d.h,
// autograd::causal_conv1d) and the RG-LRU scan (kernels/rglru.h, autograd::rglru_scan).
// They share the segment fixtures and the information-flow cases, so they share a file;
// its GPU cases run in cuda_hawk_kernels_tests (tests/ops.cmake).
// The CUDA kernels' own source also runs on the CPU under emulation (ctest kernel_emulation:
// scripts/cuda_emulation/emulation_tests.cpp).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/columns.h"
#include "kernels/conv1d.h"
#include "kernels/gated_gelu.h"
#include "kernels/rglru.h"
#include "kernels/rglru_step.h"
#if BIRDIE_OPS_GPU
#include "kernels/cuda/rglru.h"
#endif

namespace birdie::testing {
TEST_SUITE_BEGIN("conv1d_rglru");
using kernels::ScanDirection;

namespace {
// The RG-LRU's two operands (kernels/rglru.h) cut from one fixture tensor [..., 3C] drawn
// as [x | r | i]: x [..., C] and gates [..., 2C].
struct RglruOperands {
  Tensor x, gates;
};
RglruOperands rglru_operands(const Tensor& proj) {
  const std::int64_t C = proj.dim(-1) / 3;
  Shape shape = proj.shape();
  shape.back() = C;
  RglruOperands in{Tensor::empty(shape, proj.dtype(), proj.device()), Tensor()};
  shape.back() = 2 * C;
  in.gates = Tensor::empty(shape, proj.dtype(), proj.device());
  kernels::copy_columns(proj, 0, in.x, 0, C);
  kernels::copy_columns(proj, C, in.gates, 0, 2 * C);
  return in;
}
}  // namespace

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

// Hawk's two kernels on the CPU: the causal convolution with resets (kernels/conv1d.h) and
// the RG-LRU scan (kernels/rglru.h). Values against direct evaluations written here from
// the headers' formulas with explicit segments, the information flow the packer relies on,
// f64 finite-difference gradients of the autograd ops, decays at and beyond a = 0.999, and
// the bf16 emulation against f32.

using Inputs = std::vector<Tensor>;

namespace {

constexpr std::int64_t T = 17;
// Row 0: sample A = prompt (0..2) + suffix (3..5); B = empty prompt (3 at 6) + suffix
// (7..8); a one-token sample (9); C = prompt (10..12) + suffix (13..14); padding (15..16).
// Row 1: a one-token sample with an empty prompt (0), then samples of every other kind,
// ending with a one-token sample (16).
const std::vector<std::int32_t> row0{1, 0, 0, 2, 2, 2, 3, 2, 2, 1, 1, 0, 0, 2, 2, 1, 0};
const std::vector<std::int32_t> row1{3, 1, 0, 2, 1, 0, 0, 0, 2, 2, 3, 2, 1, 0, 0, 2, 1};
const int segment_of[T] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 3, 4, 4};

Tensor reset_rows(std::int64_t B) {
  std::vector<std::int32_t> values;
  for (std::int64_t b = 0; b < B; ++b) values.insert(values.end(), (b % 2 ? row1 : row0).begin(), (b % 2 ? row1 : row0).end());
  return Tensor::from_values<std::int32_t>(values, {B, T});
}

std::vector<int> segments(const std::int32_t* reset) {
  std::vector<int> id(T);
  for (std::int64_t t = 0, s = 0; t < T; ++t) id[t] = static_cast<int>(s += (t == 0 || (reset[t] & 1)));
  return id;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// y_t = bias + Σ_k w[k] x_{t∓k} over the terms kernels/conv1d.h keeps, from segment ids.
Tensor direct_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& reset, bool bidirectional) {
  const std::int64_t B = x.dim(0), C = x.dim(2), K = w.dim(0);
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>(), bv = bias.to_vector<double>();
  std::vector<double> y(B * T * C);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int32_t* r = reset.data<std::int32_t>() + b * T;
    const auto seg = segments(r);
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t c = 0; c < C; ++c) {
        const bool reverse = bidirectional && c >= C / 2;
        double sum = bv[c];
        for (std::int64_t k = 0; k < K; ++k) {
          const std::int64_t s = reverse ? t + k : t - k;
          if (s < 0 || s >= T || seg[s] != seg[t]) continue;
          if (reverse && k > 0 && ((r[t] & 2) || (r[s] & 2))) continue;
          sum += wv[k * C + c] * xv[(b * T + s) * C + c];
        }
        y[(b * T + t) * C + c] = sum;
      }
  }
  return Tensor::from_values<double>(y, x.shape());
}

// h_t = a h_{t∓1} + sqrt(1 − a²) σ(i) x with a = σ(Λ)^(8 σ(r)), restarting as in the
// gated scan: a new segment going forward; going backward, the end of a segment or a
// causal position.
Tensor direct_rglru(const Tensor& proj, const Tensor& lambda, const Tensor& reset, bool bidirectional) {
  const std::int64_t B = proj.dim(0), C = proj.dim(2) / 3;
  const auto p = proj.to_vector<double>(), lv = lambda.to_vector<double>();
  std::vector<double> y(B * T * C);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int32_t* r = reset.data<std::int32_t>() + b * T;
    const auto seg = segments(r);
    auto at = [&](std::int64_t t, int part, std::int64_t c) { return p[(b * T + t) * 3 * C + part * C + c]; };
    for (std::int64_t c = 0; c < C; ++c) {
      const bool reverse = bidirectional && c >= C / 2;
      double h = 0;
      for (std::int64_t step = 0; step < T; ++step) {
        const std::int64_t t = reverse ? T - 1 - step : step;
        const bool continues = reverse ? t + 1 < T && seg[t + 1] == seg[t] && !(r[t] & 2)
                                       : t > 0 && seg[t - 1] == seg[t];
        const double a = continues ? std::pow(sigmoid(lv[c]), 8 * sigmoid(at(t, 1, c))) : 0.0;
        h = a * h + std::sqrt(1 - a * a) * sigmoid(at(t, 2, c)) * at(t, 0, c);
        y[(b * T + t) * C + c] = h;
      }
    }
  }
  return Tensor::from_values<double>(y, {B, T, C});
}

Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& reset, ScanDirection d) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  kernels::causal_conv1d_forward(x, w, bias, reset, d, y);
  return y;
}

Tensor rglru(const Tensor& proj, const Tensor& lambda, const Tensor& reset, ScanDirection d) {
  const RglruOperands in = rglru_operands(proj);
  Tensor y = Tensor::empty(in.x.shape(), proj.dtype());
  kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, d, y);
  return y;
}

// Λ per channel: a spread of decays, with channel 1 (and every fourth after it) at
// Λ = 8.3, where a = σ(Λ)^(8r) ≈ 0.999 for r ≈ 0.5.
Tensor lambda_values(std::int64_t C, RandomGenerator& rng, DType dtype = DType::f64) {
  Tensor lambda = random_tensor({C}, rng, -2, 5);
  for (std::int64_t c = 1; c < C; c += 4) lambda.data<double>()[c] = 8.3;
  return lambda.to(dtype);
}

const ScanDirection directions[] = {ScanDirection::causal, ScanDirection::bidirectional};

// Causal runs use an odd channel count; bidirectional ones need an even one.
std::int64_t channels_for(ScanDirection d) { return d == ScanDirection::causal ? 5 : 6; }

// Calls body(direction, C) for both directions, C = channels_for(direction).
template <class Body>
void for_each_direction(Body&& body) {
  for (auto direction : directions) {
    CAPTURE(static_cast<int>(direction));
    body(direction, channels_for(direction));
  }
}

// Calls body(direction, C, K) for both directions and the convolution widths K = 1, 3, 4.
template <class Body>
void for_each_direction_and_width(Body&& body) {
  for_each_direction([&](ScanDirection direction, std::int64_t C) {
    for (std::int64_t K : {1, 3, 4}) {
      CAPTURE(K);
      body(direction, C, K);
    }
  });
}

}  // namespace

TEST_CASE("conv1d forward equals the direct evaluation, f64 and f32, widths 1, 3, 4") {
  RandomGenerator rng(170);
  const Tensor reset = reset_rows(2);
  for_each_direction_and_width([&](ScanDirection direction, std::int64_t C, std::int64_t K) {
    const Tensor x = random_tensor({2, T, C}, rng), w = random_tensor({K, C}, rng), b = random_tensor({C}, rng);
    const Tensor want = direct_conv(x, w, b, reset, direction == ScanDirection::bidirectional);
    CHECK(relative_error(conv(x, w, b, reset, direction), want) < 1e-15);
    const Tensor y32 = conv(x.to(DType::f32), w.to(DType::f32), b.to(DType::f32), reset, direction);
    CHECK(relative_error(y32, want) < 1e-6);
  });
}

TEST_CASE("RG-LRU forward equals the direct evaluation, f64 and f32") {
  RandomGenerator rng(171);
  const Tensor reset = reset_rows(2);
  for_each_direction([&](ScanDirection direction, std::int64_t C) {
    const Tensor proj = random_tensor({2, T, 3 * C}, rng, -2, 2), lambda = lambda_values(C, rng);
    const Tensor want = direct_rglru(proj, lambda, reset, direction == ScanDirection::bidirectional);
    CHECK(relative_error(rglru(proj, lambda, reset, direction), want) < 1e-13);
    const Tensor y32 = rglru(proj.to(DType::f32), lambda.to(DType::f32), reset, direction);
    CHECK(relative_error(y32, want) < 1e-5);
  });
}

namespace {

// The information-flow tests run one row (row 0) with six channels, through either op.
constexpr std::int64_t flow_channels = 6;

struct Flow {
  bool rglru_op;  // else the convolution (width 4)
  ScanDirection direction;
  Tensor input, weight, bias, lambda, reset;

  Flow(bool rglru, ScanDirection d) : rglru_op(rglru), direction(d) {
    RandomGenerator rng(172);
    const std::int64_t C = flow_channels;
    input = random_tensor({1, T, rglru ? 3 * C : C}, rng);
    weight = random_tensor({4, C}, rng, 0.5, 1.5);
    bias = random_tensor({C}, rng);
    lambda = lambda_values(C, rng);
    reset = reset_rows(1);
  }

  Tensor run(const Tensor& in) const {
    return rglru_op ? rglru(in, lambda, reset, direction) : conv(in, weight, bias, reset, direction);
  }

  // Which steps' outputs in channels [c_begin, c_end) change when every input of step
  // `poke` moves. Compared bitwise.
  std::vector<bool> changed_by(std::int64_t poke, std::int64_t c_begin = 0, std::int64_t c_end = flow_channels) const {
    Tensor moved = input.clone();
    const std::int64_t width = input.dim(2);
    for (std::int64_t c = 0; c < width; ++c) moved.data<double>()[poke * width + c] += 0.37;
    const auto a = run(input).to_vector<double>(), b = run(moved).to_vector<double>();
    std::vector<bool> changed(T, false);
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t c = c_begin; c < c_end; ++c)
        changed[t] = changed[t] || a[t * flow_channels + c] != b[t * flow_channels + c];
    return changed;
  }
};

#define CAPTURE_FLOW(rglru_op, direction) \
  CAPTURE(rglru_op);                      \
  CAPTURE(static_cast<int>(direction))

}  // namespace

TEST_CASE("a change inside one segment never reaches another segment, in either direction") {
  for (bool rglru_op : {false, true})
    for (auto direction : directions)
      for (std::int64_t poke : {1, 5, 6, 8, 9, 10, 14, 15}) {
        CAPTURE_FLOW(rglru_op, direction);
        CAPTURE(poke);
        const auto changed = Flow(rglru_op, direction).changed_by(poke);
        for (std::int64_t t = 0; t < T; ++t)
          if (segment_of[t] != segment_of[poke]) CHECK_MESSAGE(!changed[t], "step ", t, " changed");
        CHECK(changed[poke]);
      }
}

TEST_CASE("causal: a change at step t leaves every earlier output unchanged") {
  for (bool rglru_op : {false, true})
    for (std::int64_t poke = 0; poke < T; ++poke) {
      CAPTURE_FLOW(rglru_op, ScanDirection::causal);
      CAPTURE(poke);
      const auto changed = Flow(rglru_op, ScanDirection::causal).changed_by(poke);
      for (std::int64_t t = 0; t < poke; ++t) CHECK_MESSAGE(!changed[t], "step ", t, " changed");
      // The forward half of a bidirectional op is the same causal op.
      const auto forward_half = Flow(rglru_op, ScanDirection::bidirectional).changed_by(poke, 0, flow_channels / 2);
      for (std::int64_t t = 0; t < poke; ++t) CHECK_MESSAGE(!forward_half[t], "forward half, step ", t, " changed");
    }
}

TEST_CASE("bidirectional: a suffix token sees nothing later, the prompt's reverse half sees later prompt tokens") {
  for (bool rglru_op : {false, true}) {
    CAPTURE_FLOW(rglru_op, ScanDirection::bidirectional);
    const Flow flow(rglru_op, ScanDirection::bidirectional);
    // Later suffix tokens (not a sample's first, the <sg>, which the RG-LRU's prompt may
    // see as the gated scan's does): no earlier output moves, in any channel.
    for (std::int64_t poke : {4, 5, 7, 8, 14}) {
      CAPTURE(poke);
      const auto changed = flow.changed_by(poke);
      for (std::int64_t t = 0; t < poke; ++t) CHECK_MESSAGE(!changed[t], "step ", t, " changed");
    }
    // The last prompt token of sample C (12) reaches 10 and 11 through the reverse half only.
    const auto reverse_half = flow.changed_by(12, flow_channels / 2, flow_channels);
    const auto forward_half = flow.changed_by(12, 0, flow_channels / 2);
    CHECK(reverse_half[10]);
    CHECK(reverse_half[11]);
    CHECK_FALSE(forward_half[10]);
    CHECK_FALSE(forward_half[11]);
    // The <sg> of sample C (13): the convolution's look-ahead never reads a suffix token
    // into the prompt; the RG-LRU follows the gated scan, whose prompt sees the <sg>.
    const auto from_sg = flow.changed_by(13, flow_channels / 2, flow_channels);
    for (std::int64_t t : {10, 11, 12}) CHECK(from_sg[t] == rglru_op);
  }
}

TEST_CASE("gradient: causal_conv1d, every input, widths 1, 3, 4, both directions") {
  RandomGenerator rng(173);
  const Tensor reset = reset_rows(2);
  for_each_direction_and_width([&](ScanDirection direction, std::int64_t C, std::int64_t K) {
    check_gradients(
        [direction](const Inputs& in) { return weighted_sum(ag::causal_conv1d(in[0], in[1], in[2], in[3], direction)); },
        {random_tensor({2, T, C}, rng), random_tensor({K, C}, rng), random_tensor({C}, rng), reset});
  });
}

TEST_CASE("gradient: rglru_scan, x, gates and lambda, decays up to a = 0.999, both directions") {
  RandomGenerator rng(174);
  const Tensor reset = reset_rows(2);
  for_each_direction([&](ScanDirection direction, std::int64_t C) {
    const RglruOperands in = rglru_operands(random_tensor({2, T, 3 * C}, rng, -2, 2));
    check_gradients(
        [direction](const Inputs& in) { return weighted_sum(ag::rglru_scan(in[0], in[1], in[2], in[3], direction)); },
        {in.x, in.gates, lambda_values(C, rng), reset}, 1e-6, 1e-8, 1e-6);
  });
}

TEST_CASE("RG-LRU with its output gate: GeLU(o) ⊙ h, gradients in x, gates, Λ and o (f64 finite differences)") {
  RandomGenerator rng(178);
  const Tensor reset = reset_rows(2);
  for_each_direction([&](ScanDirection direction, std::int64_t C) {
    const RglruOperands in = rglru_operands(random_tensor({2, T, 3 * C}, rng, -2, 2));
    const Tensor lambda = lambda_values(C, rng), o = random_tensor({2, T, C}, rng, -3, 3);
    Tensor h = Tensor::empty({2, T, C}, DType::f64), y = Tensor::empty({2, T, C}, DType::f64);
    kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, direction, h);
    kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, direction, y, {o, {}});
    Tensor want = Tensor::empty({2, T, C}, DType::f64);
    kernels::gelu_mul_forward(o, h, want);
    CHECK(max_abs_difference(y, want) < 1e-15);
    check_gradients(
        [direction](const Inputs& in) {
          return weighted_sum(ag::rglru_scan(in[0], in[1], in[2], in[3], direction, in[4]));
        },
        {in.x, in.gates, lambda, reset, o}, 1e-6, 1e-8, 1e-6);
  });
}

TEST_CASE("RG-LRU with a within a hair of 1 stays finite, f32 and f64") {
  // Λ = 30: 1 − a ≈ 8 r e^-30 ≈ 1e-13, so a rounds to 1 in f32 and 1 − a² computed from it
  // would be 0; Λ = 200: softplus(−Λ) underflows in f32 and log a is exactly 0.
  RandomGenerator rng(175);
  const std::int64_t C = 4;
  const Tensor reset = reset_rows(1);
  Tensor lambda = Tensor::from_values<double>({30.0, 200.0, 9.0, 0.0}, {C});
  const Tensor proj = random_tensor({1, T, 3 * C}, rng, -2, 2);
  const Tensor want = direct_rglru(proj, lambda, reset, false);
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    const RglruOperands in = rglru_operands(proj.to(dtype));
    const Tensor l = lambda.to(dtype);
    Tensor y = Tensor::empty({1, T, C}, dtype);
    const Tensor saved = kernels::rglru_scan_forward(in.x, in.gates, l, reset, ScanDirection::causal, y);
    // The direct evaluation's own 1 − a² (a = 1 − 1e-13 in f64) keeps only ~3 digits of the
    // tiny drive scale, so even the f64 kernel meets it at 1e-9 only (7e-11 measured).
    CHECK(relative_error(y, want) < (dtype == DType::f32 ? 1e-5 : 1e-9));
    RandomGenerator dy_rng(176);
    const Tensor dy = random_tensor({1, T, C}, dy_rng, -1, 1, dtype);
    Tensor dx = Tensor::empty(in.x.shape(), dtype), dgates = Tensor::empty(in.gates.shape(), dtype);
    Tensor dlambda = Tensor::zeros({C}, dtype);
    kernels::rglru_scan_backward(in.x, in.gates, l, reset, ScanDirection::causal, saved, dy, dx, dgates, dlambda);
    for (const Tensor* d : {&dx, &dgates})
      for (double v : d->to_vector<double>()) REQUIRE(std::isfinite(v));
    for (double v : dlambda.to_vector<double>()) REQUIRE(std::isfinite(v));
  }
}

TEST_CASE("bf16 emulation stays within 4e-3 of f32 on the same rounded inputs") {
  // One rounding of an f32 result to bf16 is at most 2^-9 ≈ 2e-3 of each element; 4e-3
  // leaves room for inputs that round to bf16 differently from the f32 ones' sums.
  RandomGenerator rng(177);
  const Tensor reset = reset_rows(2);
  const double bound = 4e-3;
  auto rounded = [](const Tensor& t) { return t.to(DType::bf16).to(DType::f32); };
  for_each_direction([&](ScanDirection direction, std::int64_t C) {
    {  // convolution
      const Tensor x = rounded(random_tensor({2, T, C}, rng, -1, 1, DType::f32));
      const Tensor w = rounded(random_tensor({4, C}, rng, -1, 1, DType::f32));
      const Tensor b = rounded(random_tensor({C}, rng, -1, 1, DType::f32));
      const Tensor dy = rounded(random_tensor({2, T, C}, rng, -1, 1, DType::f32));
      const Tensor y32 = conv(x, w, b, reset, direction);
      const Tensor y16 = conv(x.to(DType::bf16), w.to(DType::bf16), b.to(DType::bf16), reset, direction);
      CHECK(relative_error(y16, y32) < bound);
      Tensor dx32 = Tensor::empty(x.shape(), DType::f32), dw32 = Tensor::zeros(w.shape(), DType::f32),
             db32 = Tensor::zeros({C}, DType::f32);
      kernels::causal_conv1d_backward(x, w, reset, direction, dy, dx32, dw32, db32);
      Tensor dx16 = Tensor::empty(x.shape(), DType::bf16), dw16 = Tensor::zeros(w.shape(), DType::f32),
             db16 = Tensor::zeros({C}, DType::f32);
      kernels::causal_conv1d_backward(x.to(DType::bf16), w.to(DType::bf16), reset, direction, dy.to(DType::bf16),
                                      dx16, dw16, db16);
      CHECK(relative_error(dx16, dx32) < bound);
      CHECK(relative_error(dw16, dw32) < 1e-6);  // f32 sums of the same values
      CHECK(relative_error(db16, db32) < 1e-6);
    }
    {  // RG-LRU
      const RglruOperands in32 = rglru_operands(rounded(random_tensor({2, T, 3 * C}, rng, -2, 2, DType::f32)));
      const RglruOperands in16{in32.x.to(DType::bf16), in32.gates.to(DType::bf16)};
      const Tensor lambda = lambda_values(C, rng, DType::f32);
      const Tensor dy = rounded(random_tensor({2, T, C}, rng, -1, 1, DType::f32));
      Tensor y32 = Tensor::empty({2, T, C}, DType::f32), y16 = Tensor::empty({2, T, C}, DType::bf16);
      const Tensor s32 = kernels::rglru_scan_forward(in32.x, in32.gates, lambda, reset, direction, y32);
      const Tensor s16 = kernels::rglru_scan_forward(in16.x, in16.gates, lambda, reset, direction, y16);
      CHECK(s16.dtype() == DType::f32);
      CHECK(relative_error(y16, y32) < bound);
      Tensor dx32 = Tensor::empty({2, T, C}, DType::f32), dx16 = Tensor::empty({2, T, C}, DType::bf16);
      Tensor dg32 = Tensor::empty({2, T, 2 * C}, DType::f32), dg16 = Tensor::empty({2, T, 2 * C}, DType::bf16);
      Tensor l32 = Tensor::zeros({C}, DType::f32), l16 = Tensor::zeros({C}, DType::f32);
      kernels::rglru_scan_backward(in32.x, in32.gates, lambda, reset, direction, s32, dy, dx32, dg32, l32);
      kernels::rglru_scan_backward(in16.x, in16.gates, lambda, reset, direction, s16, dy.to(DType::bf16), dx16, dg16,
                                   l16);
      CHECK(relative_error(dx16, dx32) < bound);
      CHECK(relative_error(dg16, dg32) < bound);
      CHECK(relative_error(l16, l32) < 1e-6);
      // With the output gate: y and every gradient, its own included.
      const Tensor o32 = rounded(random_tensor({2, T, C}, rng, -3, 3, DType::f32)), o16 = o32.to(DType::bf16);
      Tensor do32 = Tensor::empty({2, T, C}, DType::f32), do16 = Tensor::empty({2, T, C}, DType::bf16);
      kernels::rglru_scan_forward(in32.x, in32.gates, lambda, reset, direction, y32, {o32, {}});
      kernels::rglru_scan_forward(in16.x, in16.gates, lambda, reset, direction, y16, {o16, {}});
      CHECK(relative_error(y16, y32) < bound);
      kernels::rglru_scan_backward(in32.x, in32.gates, lambda, reset, direction, s32, dy, dx32, dg32, l32,
                                   {o32, do32});
      kernels::rglru_scan_backward(in16.x, in16.gates, lambda, reset, direction, s16, dy.to(DType::bf16), dx16, dg16,
                                   l16, {o16, do16});
      CHECK(relative_error(dx16, dx32) < bound);
      CHECK(relative_error(dg16, dg32) < bound);
      CHECK(relative_error(do16, do32) < bound);
      CHECK(relative_error(l16, l32) < 1e-6);
    }
  });
}

TEST_CASE("Hawk kernel operands are validated with clear messages") {
  const Tensor reset = Tensor::zeros({1, 4}, DType::i32);
  Tensor x = Tensor::zeros({1, 4, 3}, DType::f64), y = Tensor::empty({1, 4, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::causal_conv1d_forward(x, Tensor::zeros({2, 3}, DType::f64), Tensor::zeros({3}, DType::f64),
                                                      reset, ScanDirection::bidirectional, y),
                       doctest::Contains("must be even, got 3"), Error);
  CHECK_THROWS_WITH_AS(kernels::causal_conv1d_forward(x, Tensor::zeros({2, 4}, DType::f64), Tensor::zeros({3}, DType::f64),
                                                      reset, ScanDirection::causal, y),
                       doctest::Contains("weight must be [width ≥ 1, channels = 3]"), Error);
  const Tensor x3 = Tensor::zeros({1, 4, 3}, DType::f32), gates = Tensor::zeros({1, 4, 6}, DType::f32);
  Tensor ys = Tensor::empty({1, 4, 3}, DType::f32);
  CHECK_THROWS_WITH_AS(
      kernels::rglru_scan_forward(x3, gates, Tensor::zeros({3}, DType::bf16), reset, ScanDirection::causal, ys),
      doctest::Contains("lambda bf16[3] cpu must be f32"), Error);
  CHECK_THROWS_WITH_AS(kernels::rglru_scan_forward(x3, Tensor::zeros({1, 4, 5}, DType::f32),
                                                   Tensor::zeros({3}, DType::f32), reset, ScanDirection::causal, ys),
                       doctest::Contains("must have x's shape with 6 channels and x's dtype"), Error);
  CHECK_THROWS_WITH_AS(kernels::rglru_scan_forward(x3, gates.to(DType::f64), Tensor::zeros({3}, DType::f32), reset,
                                                   ScanDirection::causal, ys),
                       doctest::Contains("gates f64[1, 4, 6] cpu"), Error);
  CHECK_THROWS_WITH_AS(kernels::rglru_scan_forward(Tensor::zeros({4, 3}, DType::f32), gates,
                                                   Tensor::zeros({3}, DType::f32), reset, ScanDirection::causal, ys),
                       doctest::Contains("x (the drive) must be [batch, time, channels]"), Error);
  const Tensor lambda3 = Tensor::zeros({3}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::rglru_scan_forward(x3, gates, lambda3, reset, ScanDirection::causal, ys,
                                                   {Tensor::zeros({1, 4, 2}, DType::f32), {}}),
                       doctest::Contains("RG-LRU output gate (x's shape)"), Error);
  Tensor saved = kernels::rglru_scan_forward(x3, gates, lambda3, reset, ScanDirection::causal, ys, {x3, {}});
  Tensor dx3 = Tensor::empty({1, 4, 3}, DType::f32), dgates6 = Tensor::empty({1, 4, 6}, DType::f32);
  Tensor dlambda3 = Tensor::zeros({3}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::rglru_scan_backward(x3, gates, lambda3, reset, ScanDirection::causal, saved, ys, dx3,
                                                    dgates6, dlambda3, {x3, {}}),
                       doctest::Contains("out.dgate (its gradient, x's shape and dtype) must be given"), Error);
}

TEST_CASE("one-token kernels: conv1d_step and rglru_step follow the full ops token by token") {
  // A causal suffix after a prompt: the full ops over the row against prefill state + steps.
  for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional}) {
    CAPTURE(int(direction));
    RandomGenerator rng(21);
    const std::int64_t T = 9, C = 6, K = 4, prompt = 4;  // prompt 0-3, then suffix 4-8
    const Tensor x = random_tensor({1, T, C}, rng), weight = random_tensor({K, C}, rng), bias = random_tensor({C}, rng);
    const Tensor proj = random_tensor({1, T, 3 * C}, rng, -2, 2), lambda = random_tensor({C}, rng, 0, 4);
    const RglruOperands in = rglru_operands(proj);
    std::vector<std::int32_t> r(T, 2);
    for (std::int64_t t = 0; t < prompt; ++t) r[t] = 0;
    r[0] = 1;
    const Tensor reset = Tensor::from_values<std::int32_t>(r, {1, T});
    Tensor conv_full = Tensor::empty({1, T, C}, DType::f64), h_full = Tensor::empty({1, T, C}, DType::f64);
    kernels::causal_conv1d_forward(x, weight, bias, reset, direction, conv_full);
    kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, direction, h_full);
    // The state after token `prompt` (<sg>, the first causal one), then steps.
    const Tensor head_reset = Tensor::from_values<std::int32_t>(std::vector<std::int32_t>(r.begin(), r.begin() + prompt + 1),
                                                                {1, prompt + 1});
    Tensor state = Tensor::empty({1, C}, DType::f64);
    const auto head = [&](const Tensor& t) {  // the first prompt + 1 tokens of a [1, T, W] row
      const std::int64_t W = t.dim(2);
      return t.reshape({T, W}).slice(0, prompt + 1).reshape({1, prompt + 1, W});
    };
    kernels::rglru_final_state(head(in.x), head(in.gates), lambda, head_reset, direction, state);
    Tensor window = Tensor::zeros({1, K - 1, C}, DType::f64);
    window.reshape({K - 1, C}).copy_from(x.reshape({T, C}).slice(prompt + 1 - (K - 1), prompt + 1));
    for (std::int64_t t = prompt + 1; t < T; ++t) {
      CAPTURE(t);
      Tensor c = Tensor::empty({1, C}, DType::f64), h = Tensor::empty({1, C}, DType::f64);
      kernels::conv1d_step(x.reshape({T, C}).slice(t, t + 1), weight, bias, window, direction, c);
      kernels::rglru_step(in.x.reshape({T, C}).slice(t, t + 1), in.gates.reshape({T, 2 * C}).slice(t, t + 1), lambda,
                          state, direction, h);
      CHECK(max_abs_difference(c, conv_full.reshape({T, C}).slice(t, t + 1)) < 1e-14);
      CHECK(max_abs_difference(h, h_full.reshape({T, C}).slice(t, t + 1)) < 1e-14);
    }
  }
}

#else  // ---- GPU against the CPU (cuda_hawk_kernels_tests) ----

// GPU Hawk kernels against their CPU references in f64: the causal convolution with resets
// (kernels/conv1d.h) and the RG-LRU scan (kernels/rglru.h), forward and backward, f32 and
// bf16, both directions. Odd sizes (T not a multiple of the chunk, C not a multiple of 8),
// resets mid-chunk and on chunk boundaries (values 1, 2, 3), decays near 1, vector and
// scalar paths, several blocks of channels, outputs poisoned before the run (the
// accumulated parameter gradients start from random values instead, which the reference
// starts from too).

namespace {

using kernels::ScanDirection;

struct HawkCase {
  std::int64_t B, T, C;
  ScanDirection direction;
  DType dtype;
  std::int64_t K = 4;            // convolution width
  bool decay_near_one = false;   // every other channel's Λ puts a near 0.999
  bool output_gate = false;      // the RG-LRU writes GeLU(o) ⊙ h (kernels/rglru.h)
};

#define CAPTURE_HAWK_CASE(c)                \
  CAPTURE((c).B);                           \
  CAPTURE((c).T);                           \
  CAPTURE((c).C);                           \
  CAPTURE((c).K);                           \
  CAPTURE(static_cast<int>((c).direction)); \
  CAPTURE((c).output_gate);                 \
  CAPTURE(dtype_name((c).dtype))

// Segment starts (1), causal positions (2) and both (3) at random, plus segment starts on
// chunk boundaries (t = 16, 48) and just after one (t = 33), mid-chunk empty prompts (3 at
// 21), and row starts; with decay_near_one only the row start and T/3 (long segments).
Tensor hawk_reset(const HawkCase& c, RandomGenerator& rng) {
  const std::int64_t L = kernels::cuda::rglru_chunk_length;
  std::vector<std::int32_t> values(c.B * c.T, 0);
  for (std::int64_t b = 0; b < c.B; ++b) {
    std::int32_t* row = values.data() + b * c.T;
    if (c.decay_near_one) {
      row[0] = row[c.T / 3] = 1;
      continue;
    }
    for (std::int64_t t = 0; t < c.T; ++t) {
      const auto draw = rng.uniform_int(14);
      row[t] = draw == 0 ? 1 : draw <= 3 ? 2 : draw == 4 ? 3 : 0;
    }
    row[0] |= 1;
    for (std::int64_t t : {L, 3 * L, 2 * L + 1}) if (t < c.T) row[t] = 1;
    if (21 < c.T) row[21] = 3;
  }
  return Tensor::from_values<std::int32_t>(values, {c.B, c.T});
}

// ---------------------------------------------------------------------------------------
// Convolution

void check_conv(const HawkCase& c, std::uint64_t seed) {
  CAPTURE_HAWK_CASE(c);
  RandomGenerator rng(seed);
  const Tensor x = random_cpu({c.B, c.T, c.C}, c.dtype, rng);
  const Tensor w = random_cpu({c.K, c.C}, c.dtype, rng);
  const Tensor bias = random_cpu({c.C}, c.dtype, rng);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng);
  const Tensor reset = hawk_reset(c, rng);
  // The accumulated gradients are f32 for either dtype (the model's choice with bf16
  // activations) and start from random values.
  const Tensor dw0 = random_cpu({c.K, c.C}, DType::f32, rng), db0 = random_cpu({c.C}, DType::f32, rng);

  Tensor y_ref = Tensor::empty(x.shape(), DType::f64), dx_ref = Tensor::empty(x.shape(), DType::f64);
  Tensor dw_ref = as_f64_cpu(dw0), db_ref = as_f64_cpu(db0);
  kernels::causal_conv1d_forward(as_f64_cpu(x), as_f64_cpu(w), as_f64_cpu(bias), reset, c.direction, y_ref);
  kernels::causal_conv1d_backward(as_f64_cpu(x), as_f64_cpu(w), reset, c.direction, as_f64_cpu(dy), dx_ref,
                                  dw_ref, db_ref);

  const Tensor xg = x.to(Device::cuda), wg = w.to(Device::cuda), reset_g = reset.to(Device::cuda);
  Tensor y = poisoned_cuda(x.shape(), c.dtype), dx = poisoned_cuda(x.shape(), c.dtype);
  Tensor dw = dw0.to(Device::cuda), db = db0.to(Device::cuda);
  kernels::causal_conv1d_forward(xg, wg, bias.to(Device::cuda), reset_g, c.direction, y);
  kernels::causal_conv1d_backward(xg, wg, reset_g, c.direction, dy.to(Device::cuda), dx, dw, db);

  const Tolerance tolerance = tolerance_for(c.dtype);
  check_close(y, y_ref, tolerance, "conv y");
  check_close(dx, dx_ref, tolerance, "conv dx");
  // f32 sums over B·T of products of (possibly bf16-rounded) values the reference sees too.
  check_close(dw, dw_ref, fp32_tolerance, "conv dweight");
  check_close(db, db_ref, fp32_tolerance, "conv dbias");
}

TEST_CASE("conv1d: odd sizes, widths 1, 3, 4, 6 and 16, both directions, f32 and bf16") {
  std::uint64_t seed = 1700;
  for (DType dtype : {DType::f32, DType::bf16}) {
    check_conv({2, 37, 13, ScanDirection::causal, dtype, 4}, ++seed);
    check_conv({3, 50, 22, ScanDirection::bidirectional, dtype, 4}, ++seed);
    check_conv({1, 33, 9, ScanDirection::causal, dtype, 1}, ++seed);
    check_conv({2, 19, 6, ScanDirection::bidirectional, dtype, 3}, ++seed);
    // Several weight-gradient partials (B·T > 64 rows) and blocks of channels (C > 256).
    check_conv({2, 300, 24, ScanDirection::bidirectional, dtype, 4}, ++seed);
    check_conv({3, 129, 530, ScanDirection::bidirectional, dtype, 4}, ++seed);
    // Wider than 4: the weight gradient's 16-wide register window.
    check_conv({3, 130, 10, ScanDirection::bidirectional, dtype, 6}, ++seed);
    check_conv({2, 70, 5, ScanDirection::causal, dtype, 16}, ++seed);
  }
  // Wider than the weight gradient's window: a clear error, not a wrong gradient.
  const auto zeros = [](const Shape& shape, DType dtype) { return Tensor::zeros(shape, dtype, Device::cuda); };
  const Tensor x = zeros({1, 20, 4}, DType::f32), w = zeros({17, 4}, DType::f32), reset = zeros({1, 20}, DType::i32);
  Tensor dx = zeros({1, 20, 4}, DType::f32), dw = zeros({17, 4}, DType::f32), db = zeros({4}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::causal_conv1d_backward(x, w, reset, ScanDirection::causal, x, dx, dw, db),
                       doctest::Contains("width 17 above 16"), Error);
}

// ---------------------------------------------------------------------------------------
// RG-LRU

Tensor hawk_lambda(const HawkCase& c, RandomGenerator& rng) {
  Tensor lambda = random_cpu({c.C}, DType::f32, rng, -2.0, 5.0);
  // Λ = 9 gives a = σ(Λ)^(8r) between 0.9991 and 0.9999 for r in (0.1, 0.9).
  if (c.decay_near_one)
    for (std::int64_t k = 0; k < c.C; k += 2) lambda.data<float>()[k] = 9.0f;
  return lambda;
}

void check_rglru(const HawkCase& c, std::uint64_t seed) {
  CAPTURE_HAWK_CASE(c);
  RandomGenerator rng(seed);
  const RglruOperands in = rglru_operands(random_cpu({c.B, c.T, 3 * c.C}, c.dtype, rng, -2.0, 2.0));
  const Tensor lambda = hawk_lambda(c, rng);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng);
  const Tensor reset = hawk_reset(c, rng);
  const Tensor dlambda0 = random_cpu({c.C}, DType::f32, rng);
  const Tensor o = c.output_gate ? random_cpu({c.B, c.T, c.C}, c.dtype, rng, -3.0, 3.0) : Tensor();

  const Tensor x64 = as_f64_cpu(in.x), gates64 = as_f64_cpu(in.gates), lambda64 = as_f64_cpu(lambda);
  const Tensor o64 = c.output_gate ? as_f64_cpu(o) : Tensor();
  Tensor y_ref = Tensor::empty(x64.shape(), DType::f64), dx_ref = Tensor::empty(x64.shape(), DType::f64);
  Tensor dgates_ref = Tensor::empty(gates64.shape(), DType::f64), dlambda_ref = as_f64_cpu(dlambda0);
  const Tensor do_ref = c.output_gate ? Tensor::empty(x64.shape(), DType::f64) : Tensor();
  const Tensor states = kernels::rglru_scan_forward(x64, gates64, lambda64, reset, c.direction, y_ref, {o64, {}});
  kernels::rglru_scan_backward(x64, gates64, lambda64, reset, c.direction, states, as_f64_cpu(dy), dx_ref,
                               dgates_ref, dlambda_ref, {o64, do_ref});

  const Tensor xg = in.x.to(Device::cuda), gg = in.gates.to(Device::cuda), lg = lambda.to(Device::cuda),
               reset_g = reset.to(Device::cuda);
  const Tensor og = c.output_gate ? o.to(Device::cuda) : Tensor();
  Tensor y = poisoned_cuda(in.x.shape(), c.dtype), dx = poisoned_cuda(in.x.shape(), c.dtype),
         dgates = poisoned_cuda(in.gates.shape(), c.dtype);
  const Tensor dog = c.output_gate ? poisoned_cuda(in.x.shape(), c.dtype) : Tensor();
  Tensor dlambda = dlambda0.to(Device::cuda);
  const Tensor saved = kernels::rglru_scan_forward(xg, gg, lg, reset_g, c.direction, y, {og, {}});
  CHECK(saved.shape() == Shape{c.B, kernels::cuda::rglru_chunk_count(c.T), c.C});
  CHECK(saved.dtype() == DType::f32);
  kernels::rglru_scan_backward(xg, gg, lg, reset_g, c.direction, saved, dy.to(Device::cuda), dx, dgates, dlambda,
                               {og, dog});

  Tolerance tolerance = tolerance_for(c.dtype);
  // With a ≈ 0.999 over hundreds of steps the f32 rounding of a compounds (as the gated
  // scan's states do with forget gates at 0.999: tests/cuda_scan_tests.cpp), and dlambda
  // sums B·T terms through d log a that carry the whole segment's state.
  Tolerance long_memory = tolerance;
  if (c.decay_near_one && c.dtype == DType::f32) long_memory.l2 = long_memory.elementwise = 1e-4;
  check_close(y, y_ref, long_memory, "RG-LRU y");
  check_close(dx, dx_ref, long_memory, "RG-LRU dx");
  check_close(dgates, dgates_ref, long_memory, "RG-LRU dgates");
  if (c.output_gate) check_close(dog, do_ref, long_memory, "RG-LRU d output gate");
  Tolerance lambda_tolerance = fp32_tolerance;
  if (c.decay_near_one) lambda_tolerance.l2 = lambda_tolerance.elementwise = 1e-4;
  check_close(dlambda, dlambda_ref, lambda_tolerance, "RG-LRU dlambda");
}

// The RG-LRU kernel for the scope of one object (kernels/cuda/rglru.h), then the
// environment's choice again.
struct UseRglruKernel {
  explicit UseRglruKernel(kernels::cuda::RglruKernel kernel) { kernels::cuda::set_rglru_kernel(kernel); }
  ~UseRglruKernel() { kernels::cuda::clear_rglru_kernel_choice(); }
  UseRglruKernel(const UseRglruKernel&) = delete;
  UseRglruKernel& operator=(const UseRglruKernel&) = delete;
};

TEST_CASE("RG-LRU: odd sizes, both directions, f32 and bf16, vector and scalar paths, every kernel") {
  for (auto kernel : kernels::cuda::rglru_kernels) {
    CAPTURE(kernels::cuda::rglru_kernel_name(kernel));
    UseRglruKernel use(kernel);
    std::uint64_t seed = 1750;
    for (DType dtype : {DType::f32, DType::bf16}) {
      check_rglru({2, 37, 13, ScanDirection::causal, dtype}, ++seed);        // scalar path
      check_rglru({2, 50, 22, ScanDirection::bidirectional, dtype}, ++seed); // scalar (C/2 odd)
      check_rglru({3, 80, 16, ScanDirection::bidirectional, dtype}, ++seed); // T a multiple of 16
      check_rglru({2, 45, 32, ScanDirection::causal, dtype}, ++seed);        // vector path
      check_rglru({1, 5, 6, ScanDirection::bidirectional, dtype}, ++seed);   // one short chunk
      // Several blocks of channels (64 threads a block, 64 channels a one-pass tile), the
      // last one partial; 10 chunks: three one-pass tiles along a row, the last one short.
      check_rglru({2, 33, 600, ScanDirection::bidirectional, dtype}, ++seed);
      check_rglru({2, 33, 203, ScanDirection::causal, dtype}, ++seed);
      check_rglru({2, 150, 130, ScanDirection::bidirectional, dtype}, ++seed);
      // With the output gate folded in: scalar and vector paths, several tiles.
      for (HawkCase c : {HawkCase{2, 37, 13, ScanDirection::causal, dtype},
                         HawkCase{2, 45, 32, ScanDirection::causal, dtype},
                         HawkCase{2, 150, 130, ScanDirection::bidirectional, dtype}}) {
        c.output_gate = true;
        check_rglru(c, ++seed);
      }
    }
  }
}

TEST_CASE("RG-LRU with decays near 0.999 over long segments, every kernel") {
  for (auto kernel : kernels::cuda::rglru_kernels) {
    CAPTURE(kernels::cuda::rglru_kernel_name(kernel));
    UseRglruKernel use(kernel);
    std::uint64_t seed = 1780;
    for (DType dtype : {DType::f32, DType::bf16}) {
      HawkCase c{2, 1000, 24, ScanDirection::bidirectional, dtype};
      c.decay_near_one = true;
      check_rglru(c, ++seed);
    }
  }
}

// Hawk base's shape (thousands of tiles, so that look-backs meet predecessors at every
// stage of publication), with the output gate as the model runs it: the one-pass kernels
// give the same bits run after run, agree with the three-pass ones, and each backward takes
// the other forward's saved states.
TEST_CASE("RG-LRU one pass at Hawk base's shape: identical bits run after run; either saved serves either backward [large]") {
  using kernels::cuda::RglruKernel;
  const HawkCase c{8, 2048, 768, ScanDirection::bidirectional, DType::bf16};
  RandomGenerator rng(1795);
  const RglruOperands in = rglru_operands(random_cpu({c.B, c.T, 3 * c.C}, c.dtype, rng, -2.0, 2.0).to(Device::cuda));
  const Tensor lambda = hawk_lambda(c, rng).to(Device::cuda);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng).to(Device::cuda);
  const Tensor reset = hawk_reset(c, rng).to(Device::cuda);
  const Tensor o = random_cpu({c.B, c.T, c.C}, c.dtype, rng, -3.0, 3.0).to(Device::cuda);
  struct Run {
    Tensor y, saved, dx, dgates, dout_gate, dlambda;
  };
  auto run = [&](RglruKernel forward, RglruKernel backward) {
    Run r{poisoned_cuda(in.x.shape(), c.dtype),   {}, poisoned_cuda(in.x.shape(), c.dtype),
          poisoned_cuda(in.gates.shape(), c.dtype), poisoned_cuda(in.x.shape(), c.dtype),
          Tensor::zeros({c.C}, DType::f32, Device::cuda)};
    {
      UseRglruKernel use(forward);
      r.saved = kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, c.direction, r.y, {o, {}});
    }
    UseRglruKernel use(backward);
    kernels::rglru_scan_backward(in.x, in.gates, lambda, reset, c.direction, r.saved, dy, r.dx, r.dgates, r.dlambda,
                                 {o, r.dout_gate});
    return r;
  };
  const Run three = run(RglruKernel::three_pass, RglruKernel::three_pass);
  const Run one = run(RglruKernel::one_pass, RglruKernel::one_pass);
  for (int again = 0; again < 3; ++again) {
    CAPTURE(again);
    const Run r = run(RglruKernel::one_pass, RglruKernel::one_pass);
    CHECK(r.y.to_vector<float>() == one.y.to_vector<float>());
    CHECK(r.saved.to_vector<float>() == one.saved.to_vector<float>());
    CHECK(r.dx.to_vector<float>() == one.dx.to_vector<float>());
    CHECK(r.dgates.to_vector<float>() == one.dgates.to_vector<float>());
    CHECK(r.dout_gate.to_vector<float>() == one.dout_gate.to_vector<float>());
    CHECK(r.dlambda.to_vector<float>() == one.dlambda.to_vector<float>());
  }
  const Tolerance same = tolerance_for(c.dtype);
  check_close(one.y, three.y, same, "y: one pass against three");
  check_close(one.saved, three.saved, fp32_tolerance, "saved: one pass against three");
  check_close(one.dx, three.dx, same, "dx: one pass against three");
  check_close(one.dgates, three.dgates, same, "dgates: one pass against three");
  check_close(one.dout_gate, three.dout_gate, same, "d output gate: one pass against three");
  check_close(one.dlambda, three.dlambda, fp32_tolerance, "dlambda: one pass against three");
  const Run mixed = run(RglruKernel::three_pass, RglruKernel::one_pass);
  check_close(mixed.dgates, three.dgates, same, "dgates: one-pass backward from the three-pass forward's saved states");
  const Run other = run(RglruKernel::one_pass, RglruKernel::three_pass);
  check_close(other.dgates, three.dgates, same, "dgates: three-pass backward from the one-pass forward's saved states");
  CHECK(std::string(kernels::cuda::rglru_kernel_name(RglruKernel::one_pass)) == "one_pass");
}

TEST_CASE("RG-LRU and conv1d: repeated runs give identical bits") {
  RandomGenerator rng(1790);
  const HawkCase c{2, 70, 40, ScanDirection::bidirectional, DType::bf16};
  const RglruOperands in = rglru_operands(random_cpu({c.B, c.T, 3 * c.C}, c.dtype, rng, -2.0, 2.0).to(Device::cuda));
  const Tensor lambda = hawk_lambda(c, rng).to(Device::cuda);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng).to(Device::cuda);
  const Tensor reset = hawk_reset(c, rng).to(Device::cuda);
  const Tensor w = random_cpu({4, c.C}, c.dtype, rng).to(Device::cuda);
  std::vector<std::vector<double>> runs;
  for (int run = 0; run < 2; ++run) {
    Tensor y = poisoned_cuda(in.x.shape(), c.dtype), dx_rglru = poisoned_cuda(in.x.shape(), c.dtype),
           dgates = poisoned_cuda(in.gates.shape(), c.dtype);
    Tensor dlambda = Tensor::zeros({c.C}, DType::f32, Device::cuda);
    const Tensor saved = kernels::rglru_scan_forward(in.x, in.gates, lambda, reset, c.direction, y);
    kernels::rglru_scan_backward(in.x, in.gates, lambda, reset, c.direction, saved, dy, dx_rglru, dgates, dlambda);
    Tensor dx = poisoned_cuda(dy.shape(), c.dtype), dw = Tensor::zeros({4, c.C}, DType::f32, Device::cuda);
    Tensor db = Tensor::zeros({c.C}, DType::f32, Device::cuda);
    kernels::causal_conv1d_backward(y, w, reset, c.direction, dy, dx, dw, db);
    std::vector<double> all;
    for (const Tensor* t : {&y, &dx_rglru, &dgates, &dlambda, &dx, &dw, &db}) {
      const auto v = t->to_vector<double>();
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  CHECK(runs[0] == runs[1]);
}

}  // namespace

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
