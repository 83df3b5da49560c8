#include "engine/random.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <numbers>
#include <type_traits>

namespace birdie {

std::uint64_t RandomGenerator::reserve_blocks(std::uint64_t blocks) {
  const std::uint64_t first = state_.offset;
  state_.offset += blocks;
  return first;
}

std::uint32_t RandomGenerator::next_u32() {
  return philox_block(state_.seed, state_.stream, reserve_blocks(1)).word[0];
}

std::uint64_t RandomGenerator::next_u64() {
  const auto b = philox_block(state_.seed, state_.stream, reserve_blocks(1));
  return (static_cast<std::uint64_t>(b.word[0]) << 32) | b.word[1];
}

double RandomGenerator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t RandomGenerator::uniform_int(std::uint64_t bound) {
  BIRDIE_CHECK(bound > 0, "uniform_int: bound must be positive");
  // Rejection of the top partial range keeps every value equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    const std::uint64_t x = next_u64();
    if (x < limit) return x % bound;
  }
}

double RandomGenerator::normal() {
  const auto b = philox_block(state_.seed, state_.stream, reserve_blocks(1));
  const double u1 = (static_cast<double>(b.word[0]) + 1.0) * 0x1.0p-32;  // (0, 1]
  const double u2 = static_cast<double>(b.word[1]) * 0x1.0p-32;          // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

namespace {

// erfinv without the argument check, for the fills (their arguments are in range by
// construction, and a throw cannot leave an OpenMP region).
double erfinv_in_range(double y) {
  // Giles' single-precision approximation as the start, then Newton steps on erf.
  const double w = -std::log((1.0 - y) * (1.0 + y));
  double x;
  if (w < 5.0) {
    const double v = w - 2.5;
    double p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                     -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * v;
    x = p * y;
  } else {
    const double v = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682})
      p = c + p * v;
    x = p * y;
  }
  for (int step = 0; step < 3; ++step)
    x -= (std::erf(x) - y) / (2.0 / std::sqrt(std::numbers::pi) * std::exp(-x * x));
  return x;
}

}  // namespace

double erfinv(double y) {
  BIRDIE_CHECK(y > -1.0 && y < 1.0, "erfinv(", y, "): argument must be in (-1, 1)");
  return erfinv_in_range(y);
}

std::vector<std::size_t> distinct_indices(std::size_t n, std::size_t k, RandomGenerator& rng) {
  BIRDIE_CHECK(k <= n, "distinct_indices: ", k, " distinct indices of ", n);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = 0; i < k; ++i) std::swap(order[i], order[i + rng.uniform_int(n - i)]);
  order.resize(k);
  return order;
}

namespace {

// Fills of at least this many Philox blocks run on all OpenMP threads; below it a
// parallel region costs more than it saves. Either way every element gets the same value.
constexpr std::int64_t kParallelBlocks = std::int64_t{1} << 12;

// Writes a fill of n elements of type T, PerBlock elements per Philox block: element i is
// element(block first + i / PerBlock of stream s, i % PerBlock), computed in f64 and
// rounded once to T. The blocks are shared out in fixed static ranges, and each element is
// a function of its index alone, so the bytes do not depend on the number of threads.
template <int PerBlock, class T, class Element>
void fill_blocks(T* p, std::int64_t n, const RandomState& s, std::uint64_t first, const Element& element) {
  const std::int64_t blocks = (n + PerBlock - 1) / PerBlock;
#pragma omp parallel for schedule(static) if (blocks >= kParallelBlocks)
  for (std::int64_t j = 0; j < blocks; ++j) {
    const std::int64_t begin = j * PerBlock;
    const int count = static_cast<int>(std::min<std::int64_t>(PerBlock, n - begin));
    const auto b = philox_block(s.seed, s.stream, first + j);
    for (int k = 0; k < count; ++k) p[begin + k] = static_cast<T>(element(b, k));
  }
}

// Calls fill(static_cast<T*>(nullptr)) with T the tensor's element type (f32 or f64).
template <class Fn>
void dispatch_float(Tensor& t, const char* what, const Fn& fill) {
  BIRDIE_CHECK(t.is_cpu(), what, ": fills run on the CPU (copy the result to the GPU), got ",
               t.describe());
  if (t.dtype() == DType::f32) return fill(static_cast<float*>(nullptr));
  if (t.dtype() == DType::f64) return fill(static_cast<double*>(nullptr));
  throw Error(detail::concat(what, ": expected an f32 or f64 tensor, got ", t.describe()));
}

// A whole fill of `t` from the blocks it reserves in `rng` (fill_blocks).
template <int PerBlock, class Element>
void fill_tensor(Tensor& t, RandomGenerator& rng, const char* what, const Element& element) {
  const auto s = rng.state();
  const std::int64_t n = t.numel();
  dispatch_float(t, what, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const std::uint64_t first = rng.reserve_blocks((n + PerBlock - 1) / PerBlock);
    fill_blocks<PerBlock>(t.data<T>(), n, s, first, element);
  });
}

// The truncated normal's 2^24 buckets: erfinv(2 p_k - 1) for bucket k, the same double the
// element computes, looked up instead of computed (about 12 ns instead of 125). Built on
// the first fill of at least 2^24 elements, in parallel, and kept (128 MiB) for the rest
// of the process; smaller fills use it once it exists.
constexpr int kBucketBits = 24;
constexpr std::int64_t kBuckets = std::int64_t{1} << kBucketBits;

double truncated_normal_lo() { return 0.5 * (1.0 + std::erf(-2.0 / std::numbers::sqrt2)); }  // Φ(-2)

// The value erfinv is taken of, for bucket k (the midpoint of the 2^-24 bucket keeps p
// strictly inside (lo, hi)).
inline double truncated_normal_argument(std::uint32_t k, double lo, double hi) {
  const double u = (static_cast<double>(k) + 0.5) * 0x1.0p-24;
  const double p = lo + u * (hi - lo);
  return 2.0 * p - 1.0;
}

class TruncatedNormalTable {
 public:
  static const double* get(bool build) {
    static std::once_flag once;
    if (build) std::call_once(once, [] { instance().build(); });
    return instance().ready_.load(std::memory_order_acquire);
  }

 private:
  static TruncatedNormalTable& instance() {
    static TruncatedNormalTable table;
    return table;
  }
  void build() {
    // 2 MiB aligned and, where the kernel allows, on huge pages: the lookups are random, and
    // with 4 KiB pages nearly every one would also miss the TLB.
    constexpr std::size_t bytes = kBuckets * sizeof(double), huge_page = std::size_t{2} << 20;
    void* memory = std::aligned_alloc(huge_page, bytes);
    if (memory == nullptr) throw std::bad_alloc();
    values_.reset(static_cast<double*>(memory));
    madvise(memory, bytes, MADV_HUGEPAGE);  // advice only: no huge pages is no error
    double* v = values_.get();
    const double lo = truncated_normal_lo(), hi = 1.0 - lo;
#pragma omp parallel for schedule(static)
    for (std::int64_t k = 0; k < kBuckets; ++k)
      v[k] = erfinv_in_range(truncated_normal_argument(static_cast<std::uint32_t>(k), lo, hi));
    ready_.store(v, std::memory_order_release);
  }
  struct Free {
    void operator()(double* p) const { std::free(p); }
  };
  std::unique_ptr<double, Free> values_;
  std::atomic<const double*> ready_{nullptr};
};

}  // namespace

void fill_uniform(Tensor& t, RandomGenerator& rng, double low, double high) {
  fill_tensor<4>(t, rng, "fill_uniform", [&](const Philox4x32Block& b, int k) {
    return low + (high - low) * static_cast<double>(uniform_from_bits(b.word[k]));
  });
}

void fill_normal(Tensor& t, RandomGenerator& rng, double mean, double std) {
  fill_tensor<2>(t, rng, "fill_normal", [&](const Philox4x32Block& b, int k) {
    const double u1 = (static_cast<double>(b.word[2 * k] >> 8) + 1.0) * 0x1.0p-24;  // (0, 1]
    const double u2 = static_cast<double>(uniform_from_bits(b.word[2 * k + 1]));
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  });
}

void fill_truncated_normal(Tensor& t, RandomGenerator& rng, double std) {
  const auto s = rng.state();
  const std::int64_t n = t.numel();
  const double lo = truncated_normal_lo(), hi = 1.0 - lo;
  const double scale = std * std::numbers::sqrt2;
  dispatch_float(t, "fill_truncated_normal", [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const std::uint64_t first = rng.reserve_blocks((n + 3) / 4);
    if (const double* table = TruncatedNormalTable::get(n >= kBuckets)) {
      // Batches of 32 blocks: the 128 bucket numbers first (prefetching their entries), then
      // the lookups, so that the cache misses overlap.
      constexpr int kBatchBlocks = 32;
      T* p = t.data<T>();
      const std::int64_t blocks = (n + 3) / 4, batches = (blocks + kBatchBlocks - 1) / kBatchBlocks;
#pragma omp parallel for schedule(static) if (blocks >= kParallelBlocks)
      for (std::int64_t batch = 0; batch < batches; ++batch) {
        const std::int64_t j0 = batch * kBatchBlocks, j1 = std::min(blocks, j0 + kBatchBlocks);
        std::uint32_t bucket[4 * kBatchBlocks];
        for (std::int64_t j = j0; j < j1; ++j) {
          const auto b = philox_block(s.seed, s.stream, first + j);
          for (int k = 0; k < 4; ++k) {
            bucket[4 * (j - j0) + k] = b.word[k] >> 8;
            __builtin_prefetch(table + (b.word[k] >> 8));
          }
        }
        const std::int64_t e0 = 4 * j0, e1 = std::min(n, 4 * j1);
        for (std::int64_t e = e0; e < e1; ++e) p[e] = static_cast<T>(scale * table[bucket[e - e0]]);
      }
    } else {
      fill_blocks<4>(t.data<T>(), n, s, first, [&](const Philox4x32Block& b, int k) {
        return scale * erfinv_in_range(truncated_normal_argument(b.word[k] >> 8, lo, hi));
      });
    }
  });
}

}  // namespace birdie
