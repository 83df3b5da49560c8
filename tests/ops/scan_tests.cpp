// The gated scan (kernels/scan.h, autograd::gated_scan) and its generation form
// (kernels/scan_step.h). Its GPU cases run in cuda_scan_tests (tests/ops.cmake).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/scan.h"
#include "kernels/scan_step.h"
#if BIRDIE_OPS_GPU
#include "kernels/cuda/scan.h"
#endif

namespace birdie::testing {
TEST_SUITE_BEGIN("scan");
using doctest::Contains;
using kernels::ScanDirection;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

// The gated scan's semantics: forward values against a direct evaluation written from
// docs/method.md §5 with explicit segments, and the information flow the packer relies on.

namespace {

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

// Direct evaluation for one row: segments are found from the reset bits, the forward half
// restarts at each segment, the reverse half runs within the segment and never reads a
// causal (suffix) neighbour's state into a causal position.
std::vector<double> direct_scan(const std::vector<double>& p, const std::vector<std::int32_t>& reset,
                                std::int64_t T, std::int64_t N, bool bidirectional) {
  std::vector<int> segment(T);
  for (std::int64_t t = 0, s = 0; t < T; ++t) segment[t] = static_cast<int>(s += (t == 0 || (reset[t] & 1)));
  auto at = [&](std::int64_t t, int gate, std::int64_t c) { return p[t * 4 * N + gate * N + c]; };
  std::vector<double> y(T * N);
  for (std::int64_t c = 0; c < N; ++c) {
    const bool reverse = bidirectional && c >= N / 2;
    std::vector<double> h(T);
    if (!reverse) {
      for (std::int64_t t = 0; t < T; ++t) {
        const bool continues = t > 0 && segment[t - 1] == segment[t];
        h[t] = (continues ? sigmoid(at(t, 1, c)) * h[t - 1] : 0.0) + sigmoid(at(t, 0, c)) * at(t, 2, c);
      }
    } else {
      for (std::int64_t t = T - 1; t >= 0; --t) {
        const bool continues = t + 1 < T && segment[t + 1] == segment[t] && !(reset[t] & 2);
        h[t] = (continues ? sigmoid(at(t, 1, c)) * h[t + 1] : 0.0) + sigmoid(at(t, 0, c)) * at(t, 2, c);
      }
    }
    for (std::int64_t t = 0; t < T; ++t) y[t * N + c] = gelu(at(t, 3, c)) * h[t];
  }
  return y;
}

Tensor run_scan(const Tensor& proj, const Tensor& reset, ScanDirection direction) {
  Tensor y = Tensor::empty({proj.dim(0), proj.dim(1), proj.dim(2) / 4}, proj.dtype());
  kernels::gated_scan_forward(proj, reset, direction, y);
  return y;
}

// Row: sample A = prompt(0..2) + suffix(3..5); sample B = empty prompt (reset 3 at 6) +
// suffix (7..8); sample C = prompt(9..11) + suffix(12..13); padding (14..15).
const std::vector<std::int32_t> row_reset{1, 0, 0, 2, 2, 2, 3, 2, 2, 1, 0, 0, 2, 2, 1, 0};
const std::int64_t T = 16, N = 6;
const int segment_of[T] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3};

// Output rows (time steps) that differ between two runs, per direction half.
std::vector<bool> changed_steps(const Tensor& a, const Tensor& b, std::int64_t c_begin, std::int64_t c_end) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  std::vector<bool> changed(T, false);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = c_begin; c < c_end; ++c) changed[t] = changed[t] || x[t * N + c] != y[t * N + c];
  return changed;
}

Tensor perturbed(const Tensor& proj, std::int64_t t) {
  Tensor q = proj.clone();
  for (std::int64_t c = 0; c < 4 * N; ++c) q.data<double>()[t * 4 * N + c] += 0.37;
  return q;
}

}  // namespace

TEST_CASE("scan forward equals the direct evaluation, f64 and f32, odd sizes") {
  RandomGenerator rng(20);
  for (auto direction : {ScanDirection::causal, ScanDirection::bidirectional})
    for (std::int64_t n : {2, 6, 10}) {
      const std::int64_t B = 2;
      Tensor proj = random_tensor({B, T, 4 * n}, rng, -2, 2);
      std::vector<std::int32_t> resets;
      for (std::int64_t b = 0; b < B; ++b) resets.insert(resets.end(), row_reset.begin(), row_reset.end());
      Tensor reset = Tensor::from_values<std::int32_t>(resets, {B, T});
      Tensor y = run_scan(proj, reset, direction);
      Tensor y32 = run_scan(proj.to(DType::f32), reset, direction);
      const auto pv = proj.to_vector<double>();
      std::vector<double> want;
      for (std::int64_t b = 0; b < B; ++b) {
        auto row = direct_scan({pv.begin() + b * T * 4 * n, pv.begin() + (b + 1) * T * 4 * n}, row_reset, T, n,
                               direction == ScanDirection::bidirectional);
        want.insert(want.end(), row.begin(), row.end());
      }
      Tensor expected = Tensor::from_values<double>(want, {B, T, n});
      CHECK(relative_error(y, expected) < 1e-14);
      CHECK(relative_error(y32, expected) < 1e-6);
    }
}

TEST_CASE("a change inside one segment never reaches another segment, in either direction") {
  RandomGenerator rng(21);
  Tensor proj = random_tensor({1, T, 4 * N}, rng);
  Tensor reset = Tensor::from_values<std::int32_t>(row_reset, {1, T});
  for (auto direction : {ScanDirection::causal, ScanDirection::bidirectional})
    for (std::int64_t poke : {1, 5, 6, 8, 10, 13, 14}) {
      CAPTURE(poke);
      const auto changed = changed_steps(run_scan(proj, reset, direction),
                                         run_scan(perturbed(proj, poke), reset, direction), 0, N);
      for (std::int64_t t = 0; t < T; ++t)
        if (segment_of[t] != segment_of[poke]) CHECK_MESSAGE(!changed[t], "step ", t, " changed");
      CHECK(changed[poke]);
    }
}

// Label tokens, that is: the <sg> itself is a fixed token the prompt may see (§5).
TEST_CASE("a change to a later suffix token never changes an earlier output") {
  RandomGenerator rng(22);
  Tensor proj = random_tensor({1, T, 4 * N}, rng);
  Tensor reset = Tensor::from_values<std::int32_t>(row_reset, {1, T});
  for (auto direction : {ScanDirection::causal, ScanDirection::bidirectional})
    for (std::int64_t poke : {4, 5, 6, 7, 8, 13}) {
      CAPTURE(poke);
      const auto changed = changed_steps(run_scan(proj, reset, direction),
                                         run_scan(perturbed(proj, poke), reset, direction), 0, N);
      for (std::int64_t t = 0; t < poke; ++t) CHECK_MESSAGE(!changed[t], "step ", t, " changed");
    }
}

TEST_CASE("in a bidirectional scan a later prefix token does reach earlier prefix outputs") {
  RandomGenerator rng(23);
  Tensor proj = random_tensor({1, T, 4 * N}, rng);
  Tensor reset = Tensor::from_values<std::int32_t>(row_reset, {1, T});
  // Poke the last prompt token of sample C (step 11): steps 9 and 10 change through the
  // reverse half only; the forward half and the causal scan leave them alone.
  Tensor bi = run_scan(proj, reset, ScanDirection::bidirectional);
  Tensor bi_poked = run_scan(perturbed(proj, 11), reset, ScanDirection::bidirectional);
  const auto reverse_half = changed_steps(bi, bi_poked, N / 2, N);
  const auto forward_half = changed_steps(bi, bi_poked, 0, N / 2);
  CHECK(reverse_half[9]);
  CHECK(reverse_half[10]);
  CHECK_FALSE(forward_half[9]);
  CHECK_FALSE(forward_half[10]);
  const auto causal = changed_steps(run_scan(proj, reset, ScanDirection::causal),
                                    run_scan(perturbed(proj, 11), reset, ScanDirection::causal), 0, N);
  CHECK_FALSE(causal[9]);
  CHECK_FALSE(causal[10]);
  // The <sg> (first suffix token) is still visible to the prompt's reverse half.
  const auto from_sg = changed_steps(bi, run_scan(perturbed(proj, 12), reset, ScanDirection::bidirectional), N / 2, N);
  CHECK(from_sg[11]);
}

TEST_CASE("scan operands are validated with clear messages") {
  Tensor proj = Tensor::zeros({1, 4, 12}, DType::f64), reset = Tensor::zeros({1, 4}, DType::i32);
  Tensor y = Tensor::empty({1, 4, 3}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_forward(proj, reset, ScanDirection::bidirectional, y),
                       doctest::Contains("state width must be even, got 3"), Error);
  Tensor bad_reset = Tensor::zeros({1, 5}, DType::i32);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_forward(proj, bad_reset, ScanDirection::causal, y),
                       doctest::Contains("gated scan reset mask: expected shape [1, 4], got i32[1, 5] cpu"),
                       Error);
  Tensor bad_proj = Tensor::zeros({1, 4, 10}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::gated_scan_forward(bad_proj, reset, ScanDirection::causal, y),
                       doctest::Contains("proj must be [batch, time, 4·state]"), Error);
}

namespace {
// Pre-activations for the scan. forget_logit shifts the forget gates: σ(6.9) ≈ 0.999 keeps
// state nearly forever, σ(-9) ≈ 0.0001 forgets at once.
Tensor scan_proj(RandomGenerator& rng, std::int64_t B, std::int64_t T, std::int64_t N,
                 double forget_logit) {
  Tensor p = random_tensor({B, T, 4 * N}, rng, -1.5, 1.5);
  double* v = p.data<double>();
  for (std::int64_t r = 0; r < B * T; ++r)
    for (std::int64_t c = 0; c < N; ++c) v[r * 4 * N + N + c] += forget_logit;
  return p;
}
}  // namespace

TEST_CASE("gradient: gated scan, both directions, resets mid-row, gates near 1 and near 0") {
  RandomGenerator rng(17);
  struct Case {
    std::int64_t B, T, N;
    std::vector<std::int32_t> reset;
  };
  const std::vector<Case> cases{
      {1, 1, 2, {3}},
      {1, 7, 2, {1, 0, 0, 2, 2, 2, 2}},
      // Two samples in a row, the second with an empty prompt (reset 3), then padding.
      {2, 9, 6, {1, 0, 2, 2, 3, 2, 2, 1, 0, /* row 2 */ 1, 0, 0, 0, 0, 2, 2, 2, 2}},
      {1, 11, 10, {1, 0, 0, 0, 2, 2, 1, 0, 2, 2, 2}},
  };
  for (const Case& c : cases)
    for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional})
      for (double forget_logit : {0.0, 6.9, -9.0}) {
        CAPTURE(c.T);
        CAPTURE(c.N);
        CAPTURE(int(direction));
        CAPTURE(forget_logit);
        Tensor reset = Tensor::from_values<std::int32_t>(c.reset, {c.B, c.T});
        check_gradients(
            [&](const Inputs& in) { return weighted_sum(ag::gated_scan(in[0], in[1], direction)); },
            {scan_proj(rng, c.B, c.T, c.N, forget_logit), reset});
      }
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

// The generation scan (kernels/scan_step.h) on the CPU with a bf16 proj: widened to f32,
// state in f32, y rounded to bf16, against the f64 path on the same rounded inputs.

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

#else  // ---- GPU against the CPU (cuda_scan_tests) ----

// GPU gated scan (forward and backward, causal and bidirectional) and its generation form
// (final state of a prompt, then single steps) against the CPU reference in f64: odd
// sizes, resets mid-sequence (values 1, 2, 3), gates near 1, several blocks of channels,
// misaligned operands (the scalar fallback), and the model's real shape ([large]).

namespace {

using kernels::ScanDirection;

struct ScanCase {
  std::int64_t B, T, N;
  ScanDirection direction;
  DType dtype;
  bool gates_near_one = false;
};

// A reset mask with segment starts (1), causal positions (2) and both (3) in the middle
// of each row; row starts are segment starts.
Tensor random_reset(std::int64_t B, std::int64_t T, RandomGenerator& rng) {
  std::vector<std::int32_t> values(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      std::int32_t r = 0;
      const auto draw = rng.uniform_int(12);
      if (draw == 0) r = 1;
      else if (draw <= 3) r = 2;
      else if (draw == 4) r = 3;
      values[b * T + t] = t == 0 ? (r | 1) : r;
    }
  // Make sure each kind occurs mid-sequence at least once when there is room.
  if (T > 6) {
    values[T / 3] = 1;
    values[T / 2] = 3;
    values[T / 2 + 1] = 2;
  }
  return Tensor::from_values<std::int32_t>(values, {B, T});
}

// Segment starts at each row's start and at T/3 only: with gates near 1 the state then
// carries across two thirds of the prompt (measured on the CPU: f32 against f64 over 500
// carried steps lands at 4.4e-6, within the fp32 bound).
Tensor long_segment_reset(std::int64_t B, std::int64_t T) {
  std::vector<std::int32_t> values(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b) values[b * T] = values[b * T + T / 3] = 1;
  return Tensor::from_values<std::int32_t>(values, {B, T});
}

Tensor random_proj(const ScanCase& c, RandomGenerator& rng) {
  Tensor proj = random_cpu({c.B, c.T, 4 * c.N}, DType::f32, rng, -2.0, 2.0);
  if (c.gates_near_one) {
    // σ(f) = 0.999 on every forget gate: states carry across the whole sequence.
    const float logit = static_cast<float>(std::log(0.999 / 0.001));
    float* p = proj.data<float>();
    for (std::int64_t r = 0; r < c.B * c.T; ++r)
      for (std::int64_t k = 0; k < c.N; ++k) p[r * 4 * c.N + c.N + k] = logit;
  }
  return c.dtype == DType::f32 ? proj : proj.to(c.dtype);
}

// The values of gate g ([g·N, (g+1)·N) of every row) of a [rows, 4N] tensor's values.
std::vector<double> gate_values(const std::vector<double>& all, std::int64_t rows, std::int64_t N, int g) {
  std::vector<double> part;
  part.reserve(rows * N);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < N; ++k) part.push_back(all[r * 4 * N + g * N + k]);
  return part;
}

// y and dproj (whole, then each gate's gradient on its own, so a small gate cannot hide in
// the total) against the f64 reference's values, with the bounds of c.dtype.
void check_scan_outputs(const ScanCase& c, const Tensor& y, const std::vector<double>& y_ref,
                        const Tensor& dproj, const std::vector<double>& dproj_ref) {
  const Tolerance tolerance = tolerance_for(c.dtype);
  check_close(summarize_error(y.to_vector<double>(), y_ref, tolerance.floor), tolerance, "y");
  const std::vector<double> d = dproj.to_vector<double>();
  check_close(summarize_error(d, dproj_ref, tolerance.floor), tolerance, "dproj");
  static const char* const names[4] = {"dproj input gate", "dproj forget gate", "dproj z", "dproj output gate"};
  for (int g = 0; g < 4; ++g) {
    Tolerance gate = tolerance;
    // The forget-gate gradient with σ(f) = 0.999 over ~1000 steps is beyond fp32's reach at
    // 1e-5: it sums ~1000 carried terms through f(1 − f) ≈ 1e-3, and the f32 CPU reference
    // itself lands at 1.26e-5 against f64 there (measured). That component alone gets 1e-4,
    // in L2 and elementwise (relative to its largest magnitude).
    if (c.gates_near_one && c.dtype == DType::f32 && g == 1) gate.l2 = gate.elementwise = 1e-4;
    const std::int64_t rows = c.B * c.T;
    check_close(summarize_error(gate_values(d, rows, c.N, g), gate_values(dproj_ref, rows, c.N, g), gate.floor),
                gate, names[g]);
  }
}

struct ScanReference {
  std::vector<double> y, dproj;
};

// The f64 CPU reference of forward and backward on the (already rounded) inputs.
ScanReference scan_reference(const Tensor& proj, const Tensor& reset, const Tensor& dy,
                             ScanDirection direction) {
  const Tensor proj64 = as_f64_cpu(proj), dy64 = as_f64_cpu(dy);
  Tensor y_ref = Tensor::empty(dy64.shape(), DType::f64);
  const Tensor states = kernels::gated_scan_forward(proj64, reset, direction, y_ref);
  Tensor dproj_ref = Tensor::empty(proj64.shape(), DType::f64);
  kernels::gated_scan_backward(proj64, reset, direction, states, dy64, dproj_ref);
  return {y_ref.to_vector<double>(), dproj_ref.to_vector<double>()};
}

// Forward and backward on the GPU (inputs copied there, outputs poisoned first); checks the
// saved chunk states' layout.
std::pair<Tensor, Tensor> scan_on_gpu(const ScanCase& c, const Tensor& proj, const Tensor& reset,
                                      const Tensor& dy) {
  const Tensor proj_gpu = proj.to(Device::cuda), reset_gpu = reset.to(Device::cuda);
  const Tensor dy_gpu = dy.to(Device::cuda);
  Tensor y = poisoned_cuda({c.B, c.T, c.N}, c.dtype);
  const Tensor saved = kernels::gated_scan_forward(proj_gpu, reset_gpu, c.direction, y);
  CHECK(saved.shape() == Shape{c.B, kernels::cuda::scan_chunk_count(c.T), c.N});
  CHECK(saved.dtype() == DType::f32);
  Tensor dproj = poisoned_cuda(proj.shape(), c.dtype);
  kernels::gated_scan_backward(proj_gpu, reset_gpu, c.direction, saved, dy_gpu, dproj);
  return {y, dproj};
}

// doctest's CAPTURE is scoped to the caller, so the case's fields are captured by a macro.
#define CAPTURE_SCAN_CASE(c) \
  CAPTURE((c).B);            \
  CAPTURE((c).T);            \
  CAPTURE((c).N);            \
  CAPTURE(static_cast<int>((c).direction)); \
  CAPTURE(dtype_name((c).dtype))

void check_scan(const ScanCase& c, std::uint64_t seed) {
  CAPTURE_SCAN_CASE(c);
  RandomGenerator rng(seed);
  const Tensor proj = random_proj(c, rng);
  const Tensor reset = random_reset(c.B, c.T, rng);
  const Tensor dy = random_cpu({c.B, c.T, c.N}, c.dtype, rng);
  const ScanReference ref = scan_reference(proj, reset, dy, c.direction);
  const auto [y, dproj] = scan_on_gpu(c, proj, reset, dy);
  check_scan_outputs(c, y, ref.y, dproj, ref.dproj);
}

// The prompt's final state, then `steps` chained steps each carrying the state on, GPU
// against the f64 reference on the same inputs. The state is f32 on the GPU for either
// proj dtype, so it gets the fp32 bounds whatever c.dtype; y gets c.dtype's bounds.
void check_generation(const ScanCase& c, int steps, std::uint64_t seed) {
  CAPTURE_SCAN_CASE(c);
  RandomGenerator rng(seed);
  const Tensor prompt = random_proj(c, rng);
  const Tensor reset = c.gates_near_one ? long_segment_reset(c.B, c.T) : random_reset(c.B, c.T, rng);
  Tensor state_ref = Tensor::empty({c.B, c.N}, DType::f64);
  kernels::gated_scan_final_state(as_f64_cpu(prompt), reset, c.direction, state_ref);
  Tensor state = poisoned_cuda({c.B, c.N}, kernels::gated_scan_state_dtype(c.dtype));
  REQUIRE(state.dtype() == DType::f32);
  kernels::gated_scan_final_state(prompt.to(Device::cuda), reset.to(Device::cuda), c.direction, state);
  // With gates near 1 the state carries one segment over two thirds of the prompt (~270 to
  // 340 steps) through the same forget gate σ(6.9) = 0.999 at every step: its f32 rounding
  // (up to ~6e-8 relative, expf's 2 ulps included) compounds instead of averaging out, up
  // to 340 × 6e-8 = 2e-5 of the state. The f32 CPU code lands at 8.0e-6 in L2 and 8.7e-6
  // elementwise there (measured, bf16 prompt): 0.8 of the fp32 bound. Those states, and an
  // f32 y computed from them, get 5e-5.
  Tolerance state_tolerance = fp32_tolerance, y_tolerance = tolerance_for(c.dtype);
  if (c.gates_near_one) {
    state_tolerance.l2 = state_tolerance.elementwise = 5e-5;
    if (c.dtype == DType::f32) y_tolerance = state_tolerance;
  }
  check_close(state, state_ref, state_tolerance, "final state");
  ScanCase token = c;
  token.T = 1;
  for (int step = 0; step < steps; ++step) {
    CAPTURE(step);
    const Tensor proj = random_proj(token, rng).reshape({c.B, 4 * c.N});
    Tensor y_ref = Tensor::empty({c.B, c.N}, DType::f64);
    kernels::gated_scan_step(as_f64_cpu(proj), state_ref, c.direction, y_ref);
    Tensor y = poisoned_cuda({c.B, c.N}, c.dtype);
    kernels::gated_scan_step(proj.to(Device::cuda), state, c.direction, y);
    check_close(y, y_ref, y_tolerance, "y of the step");
    check_close(state, state_ref, state_tolerance, "state after the step");
  }
}

// A copy of `host` on the GPU starting one element past a 16-byte boundary (the buffer
// from the allocator is aligned to 256 bytes; a view of it from element 1 is 4 (f32) or 2
// (bf16) bytes off): the scan must see it and take its scalar path.
Tensor misaligned_cuda(const Tensor& host) {
  const Tensor buffer = Tensor::empty({host.numel() + 1}, host.dtype(), Device::cuda);
  const Tensor view = buffer.slice(1, host.numel() + 1).reshape(host.shape());
  view.copy_from(host);
  REQUIRE(reinterpret_cast<std::uintptr_t>(view.raw_data()) % 16 != 0);
  return view;
}

Tensor misaligned_poisoned_cuda(const Shape& shape, DType dtype) {
  const std::int64_t n = shape_numel(shape);
  const Tensor view = poisoned_cuda({n + 1}, dtype).slice(1, n + 1).reshape(shape);
  REQUIRE(reinterpret_cast<std::uintptr_t>(view.raw_data()) % 16 != 0);
  return view;
}

bool aligned16(const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.raw_data()) % 16 == 0; }

// Same-path agreement: the scalar fallback (VEC = 1) does per channel exactly the f32
// arithmetic of the vector path, so the two agree to the last bit unless the compiler
// contracts a multiply-add differently in the two instantiations; this allows that (a few
// f32 ulps, or one bf16 ulp after rounding) and nothing a wrong channel or step could hide in.
Tolerance same_path_tolerance(DType dtype) {
  return dtype == DType::bf16 ? Tolerance{1e-3, 0x1p-7, 1e-3} : Tolerance{1e-6, 1e-6, 1.0};
}

// The scan's scalar fallback against its vector path and the f64 reference. c must allow
// vectors (N a multiple of 16 / sizeof(element), N/2 too when bidirectional), so the aligned
// run takes the vector path; then each operand in turn is passed misaligned (proj, which
// forward and backward read; y and dproj, the outputs; dy, read by the backward only),
// which must send that call to the scalar path with the same results.
void check_scan_misaligned(const ScanCase& c, std::uint64_t seed) {
  CAPTURE_SCAN_CASE(c);
  const std::int64_t vec = 16 / static_cast<std::int64_t>(dtype_size(c.dtype));
  REQUIRE(c.N % vec == 0);
  REQUIRE((c.direction == ScanDirection::causal || (c.N / 2) % vec == 0));
  RandomGenerator rng(seed);
  const Tensor proj = random_proj(c, rng);
  const Tensor reset = random_reset(c.B, c.T, rng);
  const Tensor dy = random_cpu({c.B, c.T, c.N}, c.dtype, rng);
  const ScanReference ref = scan_reference(proj, reset, dy, c.direction);
  const Tensor reset_gpu = reset.to(Device::cuda);
  const Shape y_shape{c.B, c.T, c.N};

  // The vector path: every operand aligned.
  const Tensor proj_gpu = proj.to(Device::cuda), dy_gpu = dy.to(Device::cuda);
  Tensor y_vec = poisoned_cuda(y_shape, c.dtype), dproj_vec = poisoned_cuda(proj.shape(), c.dtype);
  REQUIRE((aligned16(proj_gpu) && aligned16(dy_gpu) && aligned16(y_vec) && aligned16(dproj_vec)));
  const Tensor saved_vec = kernels::gated_scan_forward(proj_gpu, reset_gpu, c.direction, y_vec);
  kernels::gated_scan_backward(proj_gpu, reset_gpu, c.direction, saved_vec, dy_gpu, dproj_vec);
  check_scan_outputs(c, y_vec, ref.y, dproj_vec, ref.dproj);

  enum class Off { proj, outputs, dy };
  for (Off off : {Off::proj, Off::outputs, Off::dy}) {
    CAPTURE(static_cast<int>(off));
    const Tensor p = off == Off::proj ? misaligned_cuda(proj) : proj_gpu;
    const Tensor g = off == Off::dy ? misaligned_cuda(dy) : dy_gpu;
    Tensor y = off == Off::outputs ? misaligned_poisoned_cuda(y_shape, c.dtype) : poisoned_cuda(y_shape, c.dtype);
    Tensor dproj = off == Off::outputs ? misaligned_poisoned_cuda(proj.shape(), c.dtype)
                                       : poisoned_cuda(proj.shape(), c.dtype);
    const Tensor saved = kernels::gated_scan_forward(p, reset_gpu, c.direction, y);
    kernels::gated_scan_backward(p, reset_gpu, c.direction, saved, g, dproj);
    check_scan_outputs(c, y, ref.y, dproj, ref.dproj);
    const Tolerance same = same_path_tolerance(c.dtype);
    check_close(y, y_vec, same, "y, scalar path against vector path");
    check_close(dproj, dproj_vec, same, "dproj, scalar path against vector path");
  }
}

// A reset mask as the packer writes it: samples of 40 to 700 tokens back to back, each a
// prompt (first token a segment start, 1) then a suffix of 1 to 24 causal positions (2);
// one sample in eight has an empty prompt, so its first token is both (3). The last
// sample of a row may be cut by the row's end.
Tensor packed_reset(std::int64_t B, std::int64_t T, RandomGenerator& rng) {
  std::vector<std::int32_t> values(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T;) {
      const auto length = static_cast<std::int64_t>(40 + rng.uniform_int(661));
      const auto suffix = static_cast<std::int64_t>(1 + rng.uniform_int(24));
      const std::int64_t prompt = rng.uniform_int(8) == 0 ? 0 : length - suffix;
      for (std::int64_t k = 0; k < length && t + k < T; ++k)
        values[b * T + t + k] = (k < prompt ? 0 : kernels::reset_bits::causal) |
                                (k == 0 ? kernels::reset_bits::segment_start : 0);
      t += length;
    }
  return Tensor::from_values<std::int32_t>(values, {B, T});
}

// Runs the scope's scans with one kernel (kernels/cuda/scan.h), then restores the choice.
struct UseScanKernel {
  explicit UseScanKernel(kernels::cuda::ScanKernel kernel) { kernels::cuda::set_scan_kernel(kernel); }
  ~UseScanKernel() { kernels::cuda::clear_scan_kernel_choice(); }
  UseScanKernel(const UseScanKernel&) = delete;
  UseScanKernel& operator=(const UseScanKernel&) = delete;
};

// The model's scan layers (N = 2560, T = 4096: 256 chunks) with the packer's reset masks,
// f32 and bf16 against one f64 reference per direction (the f32 run gets the bf16 inputs
// widened). Forget-gate logits in [0, 6] (σ from 0.5 to 0.9975: memories of hundreds of
// steps, so what one chunk hands to the next matters). Every kernel against one reference.
void check_real_shape(std::uint64_t seed) {
  const std::int64_t B = 2, T = 4096, N = 2560;
  for (ScanDirection d : {ScanDirection::causal, ScanDirection::bidirectional}) {
    CAPTURE(static_cast<int>(d));
    RandomGenerator rng(++seed);
    Tensor proj32 = random_cpu({B, T, 4 * N}, DType::f32, rng, -2.0, 2.0);
    const Tensor forget = random_cpu({B * T, N}, DType::f32, rng, 0.0, 6.0);
    float* p = proj32.data<float>();
    const float* f = forget.data<float>();
    for (std::int64_t r = 0; r < B * T; ++r)
      for (std::int64_t k = 0; k < N; ++k) p[r * 4 * N + N + k] = f[r * N + k];
    const Tensor proj_bf16 = proj32.to(DType::bf16);
    const Tensor reset = packed_reset(B, T, rng);
    const Tensor dy_bf16 = random_cpu({B, T, N}, DType::bf16, rng);
    const ScanReference ref = scan_reference(proj_bf16, reset, dy_bf16, d);
    for (DType dtype : {DType::f32, DType::bf16}) {
      CAPTURE(dtype_name(dtype));
      const ScanCase c{B, T, N, d, dtype};
      const Tensor proj = dtype == DType::bf16 ? proj_bf16 : proj_bf16.to(DType::f32);
      const Tensor dy = dtype == DType::bf16 ? dy_bf16 : dy_bf16.to(DType::f32);
      for (auto kernel : kernels::cuda::scan_kernels) {
        CAPTURE(kernels::cuda::scan_kernel_name(kernel));
        UseScanKernel use(kernel);
        const auto [y, dproj] = scan_on_gpu(c, proj, reset, dy);
        check_scan_outputs(c, y, ref.y, dproj, ref.dproj);
      }
    }
  }
}

}  // namespace

TEST_CASE("gated scan f32: odd sizes, both directions, vector and scalar paths") {
  std::uint64_t seed = 100;
  for (ScanDirection d : {ScanDirection::causal, ScanDirection::bidirectional}) {
    check_scan({1, 1, 4, d, DType::f32}, ++seed);      // one step
    check_scan({1, 37, 12, d, DType::f32}, ++seed);    // T not a multiple of the chunk
    check_scan({2, 16, 16, d, DType::f32}, ++seed);    // exactly one chunk, vectors
    check_scan({3, 17, 10, d, DType::f32}, ++seed);    // N/2 odd: scalar path
    check_scan({2, 300, 24, d, DType::f32}, ++seed);   // many chunks
    check_scan({1, 129, 6, d, DType::f32}, ++seed);    // N not a multiple of 4
  }
}

TEST_CASE("gated scan bf16: vector (N/2 multiple of 8) and fallback paths") {
  std::uint64_t seed = 200;
  for (ScanDirection d : {ScanDirection::causal, ScanDirection::bidirectional}) {
    check_scan({2, 64, 32, d, DType::bf16}, ++seed);
    check_scan({1, 45, 12, d, DType::bf16}, ++seed);   // N not a multiple of 8
    check_scan({3, 200, 16, d, DType::bf16}, ++seed);
  }
}

TEST_CASE("gated scan: several blocks of channels, full and partial, vector and scalar paths") {
  // Each thread owns VEC adjacent channels (4 for f32 and 8 for bf16 on the vector path,
  // 1 on the scalar path); a one-pass tile has 32 threads (a three-pass block 64), so
  // channels reach a second tile of a row once N / VEC > 32. Each case here has 130 or
  // more groups: five tiles or more, the last one partial. T = 83: 6 chunks of 16 steps,
  // the last one of 3.
  std::uint64_t seed = 600;
  for (ScanDirection d : {ScanDirection::causal, ScanDirection::bidirectional}) {
    check_scan({2, 83, 520, d, DType::f32}, ++seed);    // vectors of 4: 130 groups
    check_scan({2, 83, 130, d, DType::f32}, ++seed);    // N % 4 = 2, scalar: 130 groups
    check_scan({2, 83, 1040, d, DType::bf16}, ++seed);  // vectors of 8: 130 groups
    // N % 8 = 0, but N/2 = 100 is not: causal on vectors (25 groups, one block),
    // bidirectional on the scalar path (200 groups, four blocks).
    check_scan({2, 83, 200, d, DType::bf16}, ++seed);
  }
}

TEST_CASE("gated scan: misaligned operands take the scalar path, which matches the vector path") {
  // Each shape would take the vector path; a pointer one element off a 16-byte boundary must
  // send the call to the scalar path (VEC = 1) instead of a misaligned vector access.
  check_scan_misaligned({2, 83, 520, ScanDirection::bidirectional, DType::f32}, 650);  // 9 blocks scalar
  check_scan_misaligned({2, 37, 1040, ScanDirection::causal, DType::bf16}, 651);       // 17 blocks scalar
  check_scan_misaligned({1, 20, 16, ScanDirection::bidirectional, DType::bf16}, 652);  // one block
}

// The shape of the model's scan layers: N = 2560 state channels (10 blocks of f32 vectors,
// 5 of bf16 ones), T = 4096 (256 chunks).
TEST_CASE("every scan kernel at the real shape B=2, T=4096, N=2560, both directions, f32 and bf16 [large]") {
  check_real_shape(700);
}

TEST_CASE("gated scan with forget gates at 0.999 over long sequences") {
  check_scan({2, 1000, 16, ScanDirection::causal, DType::f32, true}, 300);
  check_scan({1, 777, 20, ScanDirection::bidirectional, DType::f32, true}, 301);
  check_scan({2, 513, 16, ScanDirection::bidirectional, DType::bf16, true}, 302);
}

TEST_CASE("gated scan: repeated runs give identical bits") {
  RandomGenerator rng(400);
  const ScanCase c{2, 90, 16, ScanDirection::bidirectional, DType::f32};
  const Tensor proj = random_proj(c, rng).to(Device::cuda);
  const Tensor reset = random_reset(c.B, c.T, rng).to(Device::cuda);
  Tensor y1 = poisoned_cuda({c.B, c.T, c.N}, c.dtype), y2 = poisoned_cuda({c.B, c.T, c.N}, c.dtype);
  kernels::gated_scan_forward(proj, reset, c.direction, y1);
  kernels::gated_scan_forward(proj, reset, c.direction, y2);
  CHECK(y1.to_vector<float>() == y2.to_vector<float>());
}

// The default kernel runs every case above; the other kernels, still selectable
// (kernels/cuda/scan.h), run these. With one warp a tile, channels reach a second one-pass
// tile in a row once N / VEC > 32, a second three-pass block once N / VEC > 64.
std::vector<kernels::cuda::ScanKernel> other_kernels() {
  std::vector<kernels::cuda::ScanKernel> others;
  for (auto kernel : kernels::cuda::scan_kernels)
    if (kernel != kernels::cuda::scan_kernel()) others.push_back(kernel);
  return others;
}

TEST_CASE("the other scan kernels: odd sizes, both directions, f32 and bf16, vector and scalar paths, many blocks") {
  for (auto kernel : other_kernels()) {
    CAPTURE(kernels::cuda::scan_kernel_name(kernel));
    UseScanKernel use(kernel);
    std::uint64_t seed = 800;
    for (ScanDirection d : {ScanDirection::causal, ScanDirection::bidirectional}) {
      check_scan({1, 1, 4, d, DType::f32}, ++seed);      // one step
      check_scan({1, 37, 12, d, DType::f32}, ++seed);    // T not a multiple of the chunk
      check_scan({3, 17, 10, d, DType::f32}, ++seed);    // N/2 odd: scalar path
      check_scan({2, 300, 24, d, DType::f32}, ++seed);   // many chunks
      check_scan({2, 83, 520, d, DType::f32}, ++seed);   // vectors of 4: 130 groups, 5 tiles a row
      check_scan({2, 83, 130, d, DType::f32}, ++seed);   // scalar: 130 groups
      check_scan({2, 64, 32, d, DType::bf16}, ++seed);
      check_scan({1, 45, 12, d, DType::bf16}, ++seed);   // N not a multiple of 8
      check_scan({2, 83, 1040, d, DType::bf16}, ++seed); // vectors of 8: 130 groups
      check_scan({2, 83, 200, d, DType::bf16}, ++seed);  // bidirectional: scalar (N/2 = 100)
    }
    check_scan({2, 1000, 16, ScanDirection::causal, DType::f32, true}, ++seed);  // gates at 0.999
    check_scan({2, 513, 16, ScanDirection::bidirectional, DType::bf16, true}, ++seed);
    check_scan_misaligned({2, 83, 520, ScanDirection::bidirectional, DType::f32}, ++seed);
    check_scan_misaligned({2, 37, 1040, ScanDirection::causal, DType::bf16}, ++seed);
  }
}

// Thousands of tiles, so that look-backs meet predecessors at every stage of publication:
// the results must not depend on it (entering states are composed in chunk order), and the
// three-pass kernel's saved states serve every one-pass backward.
TEST_CASE("one-pass scans: identical bits run after run; three-pass saved states serve their backwards [large]") {
  const ScanCase c{4, 2048, 2560, ScanDirection::bidirectional, DType::bf16};
  RandomGenerator rng(950);
  const Tensor proj = random_proj(c, rng).to(Device::cuda);
  const Tensor reset = packed_reset(c.B, c.T, rng).to(Device::cuda);
  const Tensor dy = random_cpu({c.B, c.T, c.N}, c.dtype, rng).to(Device::cuda);
  auto run = [&](kernels::cuda::ScanKernel forward, kernels::cuda::ScanKernel backward) {
    Tensor y = poisoned_cuda({c.B, c.T, c.N}, c.dtype), dproj = poisoned_cuda(proj.shape(), c.dtype);
    Tensor saved;
    {
      UseScanKernel use(forward);
      saved = kernels::gated_scan_forward(proj, reset, c.direction, y);
    }
    UseScanKernel use(backward);
    kernels::gated_scan_backward(proj, reset, c.direction, saved, dy, dproj);
    return std::make_tuple(y.to_vector<float>(), saved.to_vector<float>(), dproj.to_vector<float>());
  };
  using kernels::cuda::ScanKernel;
  const auto three = run(ScanKernel::three_pass, ScanKernel::three_pass);
  const Tolerance same = same_path_tolerance(c.dtype);
  const Shape y_shape{c.B, c.T, c.N}, saved_shape{c.B, kernels::cuda::scan_chunk_count(c.T), c.N};
  auto tensor = [](const std::vector<float>& v, const Shape& shape) { return Tensor::from_values<float>(v, shape); };
  for (ScanKernel kernel : {ScanKernel::one_pass, ScanKernel::one_pass_split4, ScanKernel::one_pass_split8,
                            ScanKernel::one_pass_tile32, ScanKernel::one_pass_tile64}) {
    CAPTURE(kernels::cuda::scan_kernel_name(kernel));
    const auto first = run(kernel, kernel);
    for (int again = 0; again < 3; ++again) {
      CAPTURE(again);
      CHECK((run(kernel, kernel) == first));
    }
    const auto mixed = run(ScanKernel::three_pass, kernel);
    check_close(tensor(std::get<0>(first), y_shape), tensor(std::get<0>(three), y_shape), same,
                "y: one pass against three");
    // The one-pass kernels take σ of bf16 logits from the fast intrinsics (~1e-6 relative):
    // their f32 states stay within the fp32 bound of the three-pass kernel's.
    check_close(tensor(std::get<1>(first), saved_shape), tensor(std::get<1>(three), saved_shape), fp32_tolerance,
                "saved: one pass against three");
    check_close(tensor(std::get<2>(first), proj.shape()), tensor(std::get<2>(three), proj.shape()), same,
                "dproj: one pass against three");
    check_close(tensor(std::get<2>(mixed), proj.shape()), tensor(std::get<2>(three), proj.shape()), same,
                "dproj: one-pass backward from the three-pass forward's saved states");
  }
}

TEST_CASE("the scan kernel choice: set, cleared back to the environment's") {
  using kernels::cuda::ScanKernel;
  const ScanKernel before = kernels::cuda::scan_kernel();
  {
    UseScanKernel three(ScanKernel::three_pass);
    CHECK(kernels::cuda::scan_kernel() == ScanKernel::three_pass);
  }
  CHECK(kernels::cuda::scan_kernel() == before);
  CHECK(std::string(kernels::cuda::scan_kernel_name(ScanKernel::one_pass)) == "one_pass");
  CHECK(std::string(kernels::cuda::scan_kernel_name(ScanKernel::one_pass_split8)) == "one_pass_split8");
  CHECK(std::string(kernels::cuda::scan_kernel_name(ScanKernel::one_pass_tile64)) == "one_pass_tile64");
}

TEST_CASE("generation scan: final state and chained steps, f32 and bf16, odd widths") {
  std::uint64_t seed = 500;
  for (DType dtype : {DType::f32, DType::bf16}) {
    check_generation({3, 37, 7, ScanDirection::causal, dtype}, 5, ++seed);
    check_generation({2, 29, 13, ScanDirection::causal, dtype}, 5, ++seed);
    check_generation({3, 37, 10, ScanDirection::bidirectional, dtype}, 5, ++seed);  // N/2 odd
    check_generation({2, 1, 18, ScanDirection::bidirectional, dtype}, 3, ++seed);  // <sg> alone
    check_generation({2, 500, 13, ScanDirection::causal, dtype, true}, 8, ++seed);
    check_generation({2, 400, 14, ScanDirection::bidirectional, dtype, true}, 8, ++seed);
  }
}

TEST_CASE("generation scan: (row, channel) lanes over many blocks, at the model's width") {
  // The final-state and step kernels run one thread per (batch row, channel) in blocks of
  // 256: B·N = 5120 lanes make 20 blocks, 390 lanes two (the second partial).
  std::uint64_t seed = 550;
  check_generation({2, 100, 2560, ScanDirection::causal, DType::f32}, 3, ++seed);
  check_generation({2, 100, 2560, ScanDirection::bidirectional, DType::bf16}, 3, ++seed);
  check_generation({3, 64, 130, ScanDirection::bidirectional, DType::f32}, 3, ++seed);
  check_generation({3, 64, 130, ScanDirection::causal, DType::bf16}, 3, ++seed);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
