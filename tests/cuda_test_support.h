// Shared helpers of the GPU parity suites (tests/cuda_*_tests.cpp): fresh random inputs,
// poisoned outputs, and the relative error against a CPU reference computed in f64.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace birdie::testing {

// Bounds of DESIGN.md: ‖gpu − ref‖ / ‖ref‖.
constexpr double fp32_bound = 1e-5;
constexpr double bf16_bound = 1e-2;
inline double bound_for(DType dtype) { return dtype == DType::bf16 ? bf16_bound : fp32_bound; }

// A CPU tensor of `dtype` (f32, f64 or bf16) with uniform values in [low, high), never all
// zeros; bf16 values are the rounded f32 draws.
Tensor random_cpu(const Shape& shape, DType dtype, RandomGenerator& rng, double low = -1.0,
                  double high = 1.0);
// A GPU tensor filled with NaN (floating dtypes) or INT32_MIN (i32): every element a
// kernel fails to write shows up in the comparison.
Tensor poisoned_cuda(const Shape& shape, DType dtype);
// The same values in f64 on the CPU (the reference's inputs).
Tensor as_f64_cpu(const Tensor& t);

// ‖got − ref‖ / ‖ref‖ over all elements (got on any device, any floating dtype); NaN or
// infinity anywhere in `got` (an unwritten, poisoned element) gives +infinity.
double relative_error(const Tensor& got, const Tensor& ref);

}  // namespace birdie::testing
