// GPU Hawk kernels against their CPU references in f64: the causal convolution with resets
// (kernels/conv1d.h) and the RG-LRU scan (kernels/rglru.h), forward and backward, f32 and
// bf16, both directions. Odd sizes (T not a multiple of the chunk, C not a multiple of 8),
// resets mid-chunk and on chunk boundaries (values 1, 2, 3), decays near 1, vector and
// scalar paths, several blocks of channels, outputs poisoned before the run (the
// accumulated parameter gradients start from random values instead, which the reference
// starts from too).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/conv1d.h"
#include "kernels/cuda/rglru.h"
#include "kernels/rglru.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {
namespace {

using kernels::ScanDirection;

struct HawkCase {
  std::int64_t B, T, C;
  ScanDirection direction;
  DType dtype;
  std::int64_t K = 4;            // convolution width
  bool decay_near_one = false;   // every other channel's Λ puts a near 0.999
};

#define CAPTURE_HAWK_CASE(c)                \
  CAPTURE((c).B);                           \
  CAPTURE((c).T);                           \
  CAPTURE((c).C);                           \
  CAPTURE((c).K);                           \
  CAPTURE(static_cast<int>((c).direction)); \
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

TEST_CASE("conv1d: odd sizes, widths 1, 3, 4, both directions, f32 and bf16") {
  std::uint64_t seed = 1700;
  for (DType dtype : {DType::f32, DType::bf16}) {
    check_conv({2, 37, 13, ScanDirection::causal, dtype, 4}, ++seed);
    check_conv({3, 50, 22, ScanDirection::bidirectional, dtype, 4}, ++seed);
    check_conv({1, 33, 9, ScanDirection::causal, dtype, 1}, ++seed);
    check_conv({2, 19, 6, ScanDirection::bidirectional, dtype, 3}, ++seed);
    // Several weight-gradient partials (B·T > 256 rows) and blocks of channels (C > 256).
    check_conv({2, 300, 24, ScanDirection::bidirectional, dtype, 4}, ++seed);
    check_conv({3, 129, 530, ScanDirection::bidirectional, dtype, 4}, ++seed);
  }
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
  const Tensor proj = random_cpu({c.B, c.T, 3 * c.C}, c.dtype, rng, -2.0, 2.0);
  const Tensor lambda = hawk_lambda(c, rng);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng);
  const Tensor reset = hawk_reset(c, rng);
  const Tensor dlambda0 = random_cpu({c.C}, DType::f32, rng);

  const Tensor proj64 = as_f64_cpu(proj), lambda64 = as_f64_cpu(lambda);
  Tensor y_ref = Tensor::empty({c.B, c.T, c.C}, DType::f64), dproj_ref = Tensor::empty(proj.shape(), DType::f64);
  Tensor dlambda_ref = as_f64_cpu(dlambda0);
  const Tensor states = kernels::rglru_scan_forward(proj64, lambda64, reset, c.direction, y_ref);
  kernels::rglru_scan_backward(proj64, lambda64, reset, c.direction, states, as_f64_cpu(dy), dproj_ref, dlambda_ref);

  const Tensor pg = proj.to(Device::cuda), lg = lambda.to(Device::cuda), reset_g = reset.to(Device::cuda);
  Tensor y = poisoned_cuda({c.B, c.T, c.C}, c.dtype), dproj = poisoned_cuda(proj.shape(), c.dtype);
  Tensor dlambda = dlambda0.to(Device::cuda);
  const Tensor saved = kernels::rglru_scan_forward(pg, lg, reset_g, c.direction, y);
  CHECK(saved.shape() == Shape{c.B, kernels::cuda::rglru_chunk_count(c.T), c.C});
  CHECK(saved.dtype() == DType::f32);
  kernels::rglru_scan_backward(pg, lg, reset_g, c.direction, saved, dy.to(Device::cuda), dproj, dlambda);

  Tolerance tolerance = tolerance_for(c.dtype);
  // With a ≈ 0.999 over hundreds of steps the f32 rounding of a compounds (as the gated
  // scan's states do with forget gates at 0.999: tests/cuda_scan_tests.cpp), and dlambda
  // sums B·T terms through d log a that carry the whole segment's state.
  Tolerance long_memory = tolerance;
  if (c.decay_near_one && c.dtype == DType::f32) long_memory.l2 = long_memory.elementwise = 1e-4;
  check_close(y, y_ref, long_memory, "RG-LRU y");
  check_close(dproj, dproj_ref, long_memory, "RG-LRU dproj");
  Tolerance lambda_tolerance = fp32_tolerance;
  if (c.decay_near_one) lambda_tolerance.l2 = lambda_tolerance.elementwise = 1e-4;
  check_close(dlambda, dlambda_ref, lambda_tolerance, "RG-LRU dlambda");
}

TEST_CASE("RG-LRU: odd sizes, both directions, f32 and bf16, vector and scalar paths") {
  std::uint64_t seed = 1750;
  for (DType dtype : {DType::f32, DType::bf16}) {
    check_rglru({2, 37, 13, ScanDirection::causal, dtype}, ++seed);        // scalar path
    check_rglru({2, 50, 22, ScanDirection::bidirectional, dtype}, ++seed); // scalar (C/2 odd)
    check_rglru({3, 80, 16, ScanDirection::bidirectional, dtype}, ++seed); // T a multiple of 16
    check_rglru({2, 45, 32, ScanDirection::causal, dtype}, ++seed);        // vector path
    check_rglru({1, 5, 6, ScanDirection::bidirectional, dtype}, ++seed);   // one short chunk
    // Several blocks of channels (64 threads a block), the last one partial.
    check_rglru({2, 33, 600, ScanDirection::bidirectional, dtype}, ++seed);
    check_rglru({2, 33, 203, ScanDirection::causal, dtype}, ++seed);
  }
}

TEST_CASE("RG-LRU with decays near 0.999 over long segments") {
  std::uint64_t seed = 1780;
  for (DType dtype : {DType::f32, DType::bf16}) {
    HawkCase c{2, 1000, 24, ScanDirection::bidirectional, dtype};
    c.decay_near_one = true;
    check_rglru(c, ++seed);
  }
}

TEST_CASE("RG-LRU and conv1d: repeated runs give identical bits") {
  RandomGenerator rng(1790);
  const HawkCase c{2, 70, 40, ScanDirection::bidirectional, DType::bf16};
  const Tensor proj = random_cpu({c.B, c.T, 3 * c.C}, c.dtype, rng, -2.0, 2.0).to(Device::cuda);
  const Tensor lambda = hawk_lambda(c, rng).to(Device::cuda);
  const Tensor dy = random_cpu({c.B, c.T, c.C}, c.dtype, rng).to(Device::cuda);
  const Tensor reset = hawk_reset(c, rng).to(Device::cuda);
  const Tensor w = random_cpu({4, c.C}, c.dtype, rng).to(Device::cuda);
  std::vector<std::vector<double>> runs;
  for (int run = 0; run < 2; ++run) {
    Tensor y = poisoned_cuda({c.B, c.T, c.C}, c.dtype), dproj = poisoned_cuda(proj.shape(), c.dtype);
    Tensor dlambda = Tensor::zeros({c.C}, DType::f32, Device::cuda);
    const Tensor saved = kernels::rglru_scan_forward(proj, lambda, reset, c.direction, y);
    kernels::rglru_scan_backward(proj, lambda, reset, c.direction, saved, dy, dproj, dlambda);
    Tensor dx = poisoned_cuda(dy.shape(), c.dtype), dw = Tensor::zeros({4, c.C}, DType::f32, Device::cuda);
    Tensor db = Tensor::zeros({c.C}, DType::f32, Device::cuda);
    kernels::causal_conv1d_backward(y, w, reset, c.direction, dy, dx, dw, db);
    std::vector<double> all;
    for (const Tensor* t : {&y, &dproj, &dlambda, &dx, &dw, &db}) {
      const auto v = t->to_vector<double>();
      all.insert(all.end(), v.begin(), v.end());
    }
    runs.push_back(all);
  }
  CHECK(runs[0] == runs[1]);
}

}  // namespace
}  // namespace birdie::testing
