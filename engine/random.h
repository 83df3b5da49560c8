// A seeded random stream on top of Philox, and tensor fills for initialization.
// State = (seed, stream, offset): an offset counts the 4-word Philox blocks used so far,
// so saving and restoring those three numbers resumes the stream exactly.
//
// The fills are parallel and their bytes do not depend on the number of threads. A fill
// reserves its whole block range up front (the generator advances exactly as a serial
// fill would), and element i is a pure function of (seed, stream, first + i / 4) or
// (..., first + i / 2): no state carries from one element to the next. Fills of at least
// 2^12 blocks share the blocks out over the OpenMP threads in fixed static ranges (smaller
// ones run on the calling thread); each block's Philox output is computed once for its 4
// (or 2) elements. Every value is computed in f64 and rounded once to the tensor's dtype,
// by the same operations in the same order as a one-element-at-a-time loop (and random.cpp
// is compiled without floating-point contraction), so 1, 2 or 16 threads write the same
// bits (tests/model_init_tests.cpp holds fingerprints taken before the fills were
// parallel). The truncated normal has only 2^24 distinct inputs (24 bits
// per element): the first fill of at least 2^24 elements tabulates erfinv for all of them
// (128 MiB, kept for the process) and that and later fills look values up instead of
// computing them; table entries are computed by the same function, so the bits are equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/philox.h"
#include "engine/tensor.h"

namespace birdie {

struct RandomState {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  std::uint64_t offset = 0;
  bool operator==(const RandomState&) const = default;
};

class RandomGenerator {
 public:
  explicit RandomGenerator(std::uint64_t seed = 0, std::uint64_t stream = 0)
      : state_{seed, stream, 0} {}
  explicit RandomGenerator(const RandomState& state) : state_(state) {}

  const RandomState& state() const { return state_; }

  // Scalar draws (each consumes one Philox block, the rest of its words are discarded, so
  // the position in the stream is easy to reason about).
  std::uint32_t next_u32();
  std::uint64_t next_u64();
  double uniform();                               // [0, 1) with 53 random bits
  std::uint64_t uniform_int(std::uint64_t bound);  // [0, bound), unbiased
  double normal();                                // standard normal

  // Reserves `blocks` consecutive blocks and returns the first: a fill of n elements uses
  // blocks [first, first + ceil(n / per_block)), the same ones on the CPU and the GPU.
  std::uint64_t reserve_blocks(std::uint64_t blocks);

 private:
  RandomState state_;
};

// k distinct indices of [0, n) in random order, k ≤ n: a partial Fisher-Yates shuffle of
// 0 .. n-1, one uniform_int draw per index.
std::vector<std::size_t> distinct_indices(std::size_t n, std::size_t k, RandomGenerator& rng);

// Element i of a fill uses block first + i/4, word i%4 (uniform) or block first + i/2,
// words 2(i%2), 2(i%2)+1 (normal, Box-Muller), which a GPU kernel can reproduce.
// CPU tensors of dtype f32 or f64.
void fill_uniform(Tensor& t, RandomGenerator& rng, double low, double high);
void fill_normal(Tensor& t, RandomGenerator& rng, double mean, double std);
// Normal truncated to [mean - 2 std, mean + 2 std] by inverting the CDF (no rejection, so
// every element uses a fixed number of random words).
void fill_truncated_normal(Tensor& t, RandomGenerator& rng, double std);

// The inverse of the error function, |x| < 1 (double precision).
double erfinv(double x);

}  // namespace birdie
