// Shared helpers of the GPU parity suites (tests/cuda_*_tests.cpp): fresh random inputs,
// poisoned outputs, and the error against a CPU reference computed in f64: the relative
// L2 error of docs/design.md and the largest elementwise error.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace birdie::testing {

// Bounds of docs/design.md: ‖gpu − ref‖ / ‖ref‖.
constexpr double fp32_bound = 1e-5;
constexpr double bf16_bound = 1e-2;
inline double bound_for(DType dtype) { return dtype == DType::bf16 ? bf16_bound : fp32_bound; }

// A CPU tensor of `dtype` (f32, f64 or bf16) with uniform values in [low, high), never all
// zeros; bf16 values are the rounded f32 draws.
Tensor random_cpu(const Shape& shape, DType dtype, RandomGenerator& rng, double low = -1.0,
                  double high = 1.0);
// A GPU tensor filled with NaN (floating dtypes: every byte 0xFF, written on the device, so
// even a tensor of billions of elements is poisoned at once) or INT32_MIN (i32): every
// element a kernel fails to write shows up in the comparison.
Tensor poisoned_cuda(const Shape& shape, DType dtype);
// The same values in f64 on the CPU (the reference's inputs).
Tensor as_f64_cpu(const Tensor& t);

// ‖got − ref‖ / ‖ref‖ over all elements (got on any device, any floating dtype); NaN or
// infinity anywhere in `got` (an unwritten, poisoned element) gives +infinity.
double relative_error(const Tensor& got, const Tensor& ref);

// The largest elementwise errors. A NaN or infinity in `got` or `ref` gives +infinity (as
// does a size mismatch); so does a nonzero error against a reference that is all zeros.
//   max_abs_error      max_i |got_i − ref_i|
//   max_magnitude      max_i |t_i|
//   max_relative_error max_i |got_i − ref_i| / max(|ref_i|, floor · max_j |ref_j|):
//                      each element against its own magnitude, except that elements
//                      below `floor` times the largest are measured against that floor
//                      (floor = 1: the largest error relative to the largest magnitude).
double max_abs_error(const Tensor& got, const Tensor& ref);
double max_magnitude(const Tensor& t);
double max_relative_error(const Tensor& got, const Tensor& ref, double floor);

// All of the above from one pass over the values (big tensors are converted once), and
// where the worst element is, for the failure message.
struct ErrorSummary {
  double relative_l2 = 0;    // relative_error
  double max_abs = 0;        // max_abs_error
  double max_ref = 0;        // max_magnitude(ref)
  double max_relative = 0;   // max_relative_error with the floor given
  std::int64_t worst = -1;   // index of the element behind max_relative (-1: none)
  double worst_got = 0, worst_ref = 0;
  std::int64_t non_finite = 0;  // elements where got or ref is NaN or infinite
};
ErrorSummary summarize_error(const std::vector<double>& got, const std::vector<double>& ref,
                             double floor);
ErrorSummary summarize_error(const Tensor& got, const Tensor& ref, double floor);

// What a parity check allows: relative L2 error ≤ l2, and every element
// |got − ref| ≤ elementwise · max(|ref|, floor · max|ref|).
struct Tolerance {
  double l2;
  double elementwise;
  double floor;
};
// f32 outputs: the docs/design.md bound in L2, and no element off by more than 1e-5 of the
// largest magnitude (floor 1). fp32 math differs from the f64 reference by a few ulps per
// operation (6e-8 each); 1e-5 leaves two orders of magnitude for sums and chains of such
// roundings, while a wrong element (unwritten, misplaced, a lost carry) is off by O(1).
constexpr Tolerance fp32_tolerance{fp32_bound, 1e-5, 1.0};
// bf16 outputs: one rounding to bf16 (7 stored mantissa bits) is at most half an ulp,
// 2^-8 of the value. 2^-6 = four half-ulps allows an output computed in f32 from up to
// three bf16-rounded intermediates (residual, statistic, output) plus the fp32 error.
// Elements below 1e-3 of the largest are measured against that floor: there f32
// cancellation (a sum of terms much larger than the result) leaves absolute errors of
// ~1e-6 of the terms, which is large relative to the element but not to the floor.
constexpr Tolerance bf16_tolerance{bf16_bound, 0x1p-6, 1e-3};
inline Tolerance tolerance_for(DType dtype) {
  return dtype == DType::bf16 ? bf16_tolerance : fp32_tolerance;
}

// doctest CHECKs of both bounds, with the numbers and the worst element in the message.
// `what` names the output compared.
void check_close(const ErrorSummary& errors, const Tolerance& tolerance, const char* what);
void check_close(const Tensor& got, const Tensor& ref, const Tolerance& tolerance,
                 const char* what);

}  // namespace birdie::testing
