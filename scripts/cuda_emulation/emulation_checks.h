// The checks shared by the kernel emulation cases (emulation_tests.cpp runs them): the
// failure count, device-like buffers of f32/bf16 elements at a chosen alignment, the random
// fills, relative errors against f64, and the cases of each kernel family.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/dtype.h"

namespace emulation_checks {

using birdie::DType;

inline int failures = 0;

inline std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g", v);
  return text;
}

inline void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

inline std::size_t size_of(DType t) { return t == DType::bf16 ? 2 : t == DType::f64 ? 8 : 4; }

// A device-like buffer of n elements of `type`, `offset` elements past a 256-byte
// aligned start (offset 1 defeats the 16-byte vector paths).
struct Buffer {
  DType type;
  std::int64_t n;
  std::vector<unsigned char> bytes;
  std::size_t offset;
  Buffer(DType t, std::int64_t count, std::size_t offset_elements = 0)
      : type(t), n(count), bytes(256 + (count + offset_elements) * size_of(t) + 256, 0xFF) {
    const auto base = reinterpret_cast<std::uintptr_t>(bytes.data());
    offset = (256 - base % 256) % 256 + offset_elements * size_of(t);
  }
  void* data() { return bytes.data() + offset; }
  double get(std::int64_t i) const {
    const unsigned char* p = bytes.data() + offset + i * size_of(type);
    if (type == DType::bf16) {
      __nv_bfloat16 h;
      std::memcpy(&h, p, 2);
      return __bfloat162float(h);
    }
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  void set(std::int64_t i, double v) {
    unsigned char* p = bytes.data() + offset + i * size_of(type);
    if (type == DType::bf16) {
      const __nv_bfloat16 h = __float2bfloat16_rn(static_cast<float>(v));
      std::memcpy(p, &h, 2);
    } else {
      const float f = static_cast<float>(v);
      std::memcpy(p, &f, 4);
    }
  }
  std::vector<double> values() const {
    std::vector<double> out(n);
    for (std::int64_t i = 0; i < n; ++i) out[i] = get(i);
    return out;
  }
  bool same_bits(const Buffer& o) const {
    return n == o.n && std::memcmp(bytes.data() + offset, o.bytes.data() + o.offset, n * size_of(type)) == 0;
  }
};

inline std::mt19937_64 rng(12345);
inline double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

inline void fill(Buffer& b, double lo, double hi) {
  for (std::int64_t i = 0; i < b.n; ++i) b.set(i, uniform(lo, hi));
}

// max |a − b| / max |b|
inline double relative(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    if (std::isnan(a[i])) continue;
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return den == 0 ? num : num / den;
}

inline double bound(DType t) { return t == DType::bf16 ? 1e-2 : 2e-5; }

inline double sig(double x) { return 1 / (1 + std::exp(-x)); }
inline double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
inline double gelud(double x) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}

// Cases of recurrence_emulation_cases.cpp: the scan and Hawk's conv1d and RG-LRU.
void scan_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t N, bool reference = true);
void conv1d_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t K);
void rglru_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, bool gated = false);
void hawk_step_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t K);
// Cases of layer_emulation_cases.cpp: RMSNorm, embedding, row sums, elementwise maps,
// cross-entropy, reductions and AdamW.
void rmsnorm_case(DType dt, DType stats, std::int64_t rows, std::int64_t D, bool residual);
void embedding_case(DType gt, DType wt, std::int64_t count, std::int64_t V, std::int64_t D, bool invalid);
void sum_rows_case(DType t, std::int64_t rows, std::int64_t width);
void elementwise_case(DType t, std::int64_t n, std::int64_t nb);
void gated_gelu_case(DType t, std::int64_t rows, std::int64_t width, bool halves);
void cross_entropy_case(DType lt, DType st, std::int64_t rows, std::int64_t V, std::size_t offset = 0);
void reduce_case(DType t, std::int64_t n);
void adamw_case(std::int64_t n);

}  // namespace emulation_checks
