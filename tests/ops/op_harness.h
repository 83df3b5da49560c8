// The harness of the per-op tests. Every test of one op lives in one file,
// tests/ops/<op>_tests.cpp, and that file is compiled into two suites:
//
//   ops_tests       every build: the CPU checks, usually in this order
//                   - the op against straightforward formulas or hand-computed values (f64,
//                     and f32 through OpenBLAS), or composed from older kernels; these CPU
//                     paths are the references the GPU cases compare against;
//                   - its operand checks, which turn shape, dtype and device mistakes into
//                     messages naming the op and the shapes;
//                   - finite-difference gradients of its autograd rule in f64 (random
//                     inputs, odd sizes; check_gradients of tests/support/test_util.h, the
//                     loss weighting every output element differently: weighted_sum);
//                   - bf16 on the CPU backend (emulated: kernels/cpu/bf16_emulation.h, with
//                     the GPU's dtype rules) against the f64 reference on the same rounded
//                     inputs, check_close(what, got, ref, bound) below; rejected dtype
//                     combinations name the op.
//   cuda_ops_tests  builds with the CUDA backend, from the same files compiled with
//                   BIRDIE_OPS_GPU=1: the GPU kernels against their CPU references in f64
//                   (tests/cuda_test_support.h: random_cpu, poisoned_cuda, check_close with
//                   a Tolerance), then at the shapes that reach the paths small ones never
//                   do (grid-stride loops going round, launches split into slices, several
//                   rows per block, 2^31 elements: "[large]" cases, which runs under
//                   compute-sanitizer leave out, see tests/cuda.cmake). Without a GPU the
//                   suite exits 77, which CTest reports as skipped.
//
// A few files' GPU cases run in a GPU suite of their own instead, built from that file alone
// (matmul, scan, attention, conv1d_rglru, block: tests/ops.cmake names them), the suites
// scripts/gpu_check.sh runs and sanitizes by name. Apart from these suites, the CUDA kernels'
// own source also runs on the CPU under emulation (scripts/cuda_emulation/, ctest
// kernel_emulation and attention_kernel_emulation).
//
// A file puts its CPU cases under `#if !BIRDIE_OPS_GPU` and its GPU cases under `#else`,
// both inside TEST_SUITE_BEGIN("<op>"), so `ops_tests -ts=<op>` (or `cuda_ops_tests
// -ts=<op>`) runs one op's checks. A new op: add tests/ops/<op>_tests.cpp (CMake picks it
// up) with those two sections.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

#if BIRDIE_OPS_GPU
#include "tests/cuda_test_support.h"
#else
#include "tests/support/test_util.h"
#endif

namespace birdie::testing {

inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

#if !BIRDIE_OPS_GPU

// ---- finite-difference gradients (tests/support/test_util.h: check_gradients, weighted_sum) ------
namespace ag = birdie::autograd;
using Inputs = std::vector<Tensor>;

// ---- bf16 on the CPU backend --------------------------------------------------------------
// Bounds against the f64 reference: ≤ 1e-2 where the output is bf16 (docs/design.md's bound for
// bf16 inputs), ≤ 1e-5 where it is f32, since then nothing is rounded to bf16 and only f32
// accumulation stands between the two.
constexpr double bf16_bound = 1e-2;
constexpr double f32_bound = 1e-5;

// Uniform values drawn in f32, then converted to `dtype`.
inline Tensor random_of(DType dtype, const Shape& shape, RandomGenerator& rng, double low = -1.0,
                        double high = 1.0) {
  return random_tensor(shape, rng, low, high, DType::f32).to(dtype);
}
inline Tensor random_bf16(const Shape& shape, RandomGenerator& rng, double low = -1.0,
                          double high = 1.0) {
  return random_of(DType::bf16, shape, rng, low, high);
}
// The same values in f64 (exact for bf16 and f32): the reference's inputs.
inline Tensor wide(const Tensor& t) { return t.to(DType::f64); }
// An output every element of which must be written: NaN fails any bound.
inline Tensor poisoned(const Shape& shape, DType dtype) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype);
}

// CHECKs relative_error(got, ref) ≤ bound, naming `what`; the worst error of each `what` is
// printed when the run ends ("worst relative errors against the f64 reference").
void check_close(const std::string& what, const Tensor& got, const Tensor& ref, double bound);

#else

// ---- GPU against the CPU ------------------------------------------------------------------
// `count` token ids (or targets) below `vocab`; with_ignored sets every fifth one (0, 5, ...)
// to kernels::ignore_index.
Tensor random_ids(std::int64_t count, std::int64_t vocab, RandomGenerator& rng, bool with_ignored = false);

// Calls body(dtype, size, rng) for dtype f32 then bf16 and each of `sizes` (both CAPTUREd),
// each call with a generator of its own, seeded seed + 1, seed + 2, ... in that order.
template <class Body>
void for_each_dtype_and_size(std::uint64_t seed, std::initializer_list<std::int64_t> sizes,
                             Body&& body) {
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t size : sizes) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(size);
      RandomGenerator rng(++seed);
      body(dtype, size, rng);
    }
}

#endif

}  // namespace birdie::testing
