// The gated scan's semantics: forward values against a direct evaluation written from
// BIRDIE.md §5 with explicit segments, and the information flow the packer relies on.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/scan.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
using kernels::ScanDirection;

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
