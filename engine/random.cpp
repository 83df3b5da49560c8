#include "engine/random.h"

#include <cmath>
#include <numbers>

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

double erfinv(double y) {
  BIRDIE_CHECK(y > -1.0 && y < 1.0, "erfinv(", y, "): argument must be in (-1, 1)");
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

namespace {

template <class T, class Fn>
void fill_each(Tensor& t, Fn&& value_at) {
  T* p = t.data<T>();
  const std::int64_t n = t.numel();
  for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(value_at(i));
}

template <class Fn>
void fill_float(Tensor& t, const char* what, Fn&& value_at) {
  BIRDIE_CHECK(t.is_cpu(), what, ": fills run on the CPU (copy the result to the GPU), got ",
               t.describe());
  if (t.dtype() == DType::f32) return fill_each<float>(t, value_at);
  if (t.dtype() == DType::f64) return fill_each<double>(t, value_at);
  throw Error(detail::concat(what, ": expected an f32 or f64 tensor, got ", t.describe()));
}

}  // namespace

void fill_uniform(Tensor& t, RandomGenerator& rng, double low, double high) {
  const auto s = rng.state();
  const std::uint64_t first = rng.reserve_blocks((t.numel() + 3) / 4);
  fill_float(t, "fill_uniform", [&](std::int64_t i) {
    const auto b = philox_block(s.seed, s.stream, first + i / 4);
    return low + (high - low) * static_cast<double>(uniform_from_bits(b.word[i % 4]));
  });
}

void fill_normal(Tensor& t, RandomGenerator& rng, double mean, double std) {
  const auto s = rng.state();
  const std::uint64_t first = rng.reserve_blocks((t.numel() + 1) / 2);
  fill_float(t, "fill_normal", [&](std::int64_t i) {
    const auto b = philox_block(s.seed, s.stream, first + i / 2);
    const int w = 2 * static_cast<int>(i % 2);
    const double u1 = (static_cast<double>(b.word[w] >> 8) + 1.0) * 0x1.0p-24;  // (0, 1]
    const double u2 = static_cast<double>(uniform_from_bits(b.word[w + 1]));
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  });
}

void fill_truncated_normal(Tensor& t, RandomGenerator& rng, double std) {
  const auto s = rng.state();
  const std::uint64_t first = rng.reserve_blocks((t.numel() + 3) / 4);
  const double lo = 0.5 * (1.0 + std::erf(-2.0 / std::numbers::sqrt2));  // Φ(-2)
  const double hi = 1.0 - lo;                                          // Φ(2)
  fill_float(t, "fill_truncated_normal", [&](std::int64_t i) {
    const auto b = philox_block(s.seed, s.stream, first + i / 4);
    // Midpoint of the 2^-24 bucket keeps p strictly inside (lo, hi).
    const double u = (static_cast<double>(b.word[i % 4] >> 8) + 0.5) * 0x1.0p-24;
    const double p = lo + u * (hi - lo);
    return std * std::numbers::sqrt2 * erfinv(2.0 * p - 1.0);
  });
}

}  // namespace birdie
