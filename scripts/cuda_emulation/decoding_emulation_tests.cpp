// Runs the launchers of kernels/cuda/sampling.cu and attention_decode.cu, compiled for the
// host through cuda_shim.h (see scripts/emulate_decoding_kernels.py): the sampling kernel
// against the CPU reference kernels/cpu/sampling.cpp (compiled beside it; the same token
// for every row, rule, seed and counter, with ties, NaN and −∞ among the logits), the
// generation bookkeeping against its definition, and the batched decoding attention (its
// rotary append into per-row caches, attention over per-row lengths, the position advance)
// and the one-row attention against dense f64 references. Exits non-zero on any failure.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/sampling.h"
#include "kernels/cuda/attention_decode.h"
#include "kernels/cuda/sampling.h"
#include "emulation_checks.h"

using namespace birdie;
namespace kc = birdie::kernels::cuda;
using kernels::SamplingRule;

namespace {

using emulation_checks::check;
using emulation_checks::failures;

std::mt19937_64 rng(11);

const char* name(DType t) { return t == DType::bf16 ? "bf16" : "f32"; }

// Values as stored in `dtype` (bf16-rounded where it is bf16), kept as floats, and the raw
// buffer a launcher reads.
struct Operand {
  DType dtype;
  std::vector<float> values;
  std::vector<__nv_bfloat16> bf16;
  Operand(DType t, std::vector<float> v) : dtype(t), values(std::move(v)) {
    if (t == DType::bf16)
      for (float& x : values) {
        bf16.push_back(__float2bfloat16_rn(x));
        x = __bfloat162float(bf16.back());
      }
  }
  void* data() { return dtype == DType::bf16 ? static_cast<void*>(bf16.data()) : values.data(); }
  float get(std::size_t i) const { return dtype == DType::bf16 ? __bfloat162float(bf16[i]) : values[i]; }
};

std::vector<float> random_values(std::size_t n, double low, double high) {
  std::uniform_real_distribution<double> u(low, high);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(u(rng));
  return v;
}

// ------------------------------------------------------------------ sampling
void sampling_case(DType dt, std::int64_t B, std::int64_t V, const SamplingRule& rule, bool special) {
  std::vector<float> logits = random_values(B * V, -4, 4);
  // Ties (logits on a coarse grid), and where asked NaN and −∞ too.
  for (float& x : logits) x = std::round(x * 2) / 2;
  if (special && V > 4)
    for (std::int64_t b = 0; b < B; ++b) {
      logits[b * V + 1] = NAN;
      logits[b * V + V - 2] = -INFINITY;
    }
  Operand in(dt, logits);
  std::vector<std::int32_t> seeds, counters, tokens(B, -1);
  std::vector<std::uint64_t> row_seeds;
  for (std::int64_t b = 0; b < B; ++b) {
    row_seeds.push_back(rng());
    seeds.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(row_seeds.back())));
    seeds.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(row_seeds.back() >> 32)));
    counters.push_back(static_cast<std::int32_t>(rng() % 1000));
  }
  const std::vector<std::int32_t> before = counters;
  kc::sample_tokens(dt, in.data(), B, V, rule, seeds.data(), counters.data(), tokens.data(), nullptr);
  bool same = true, advanced = true;
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int32_t want = kernels::cpu::sample_row(in.values.data() + b * V, V, rule, row_seeds[b],
                                                       static_cast<std::uint32_t>(before[b]));
    same = same && tokens[b] == want;
    advanced = advanced && counters[b] == before[b] + (rule.temperature > 0 ? 1 : 0);
  }
  char text[160];
  std::snprintf(text, sizeof text, "sampling %s B=%lld V=%lld T=%.2f top_k=%lld top_p=%.2f%s", name(dt),
                static_cast<long long>(B), static_cast<long long>(V), rule.temperature,
                static_cast<long long>(rule.top_k), rule.top_p, special ? " (NaN, -inf)" : "");
  check(same && advanced, text);
}

void record_case() {
  const std::int64_t B = 3, M = 4;
  std::vector<std::int32_t> out(B * M, -9), counts(B, 0), done(B, 0);
  const std::vector<std::vector<std::int32_t>> steps{{5, 6, 7}, {3, 8, 7}, {5, 6, 7}, {9, 6, 8}, {1, 1, 1}};
  for (const auto& step : steps)
    kc::record_tokens(step.data(), B, 3, 8, M, out.data(), counts.data(), done.data(), nullptr);
  check(out == std::vector<std::int32_t>{5, 3, -9, -9, 6, 8, -9, -9, 7, 7, 7, 8} &&
            counts == std::vector<std::int32_t>{2, 2, 4} && done == std::vector<std::int32_t>{1, 1, 1},
        "record_tokens: stops at eos, at the stop token and when full");
}

// ------------------------------------------------------------------ decoding attention
// Rotation of pair (d, d + Dh/2) at `position`, in f64.
void rotate(std::vector<double>& x, std::size_t at, std::int64_t H, std::int64_t Dh, std::int64_t position,
            double base) {
  for (std::int64_t h = 0; h < H; ++h)
    for (std::int64_t d = 0; d < Dh / 2; ++d) {
      const double angle = position * std::pow(base, -2.0 * d / Dh);
      const std::size_t i = at + h * Dh + d, j = i + Dh / 2;
      const double a = x[i], b = x[j];
      x[i] = a * std::cos(angle) - b * std::sin(angle);
      x[j] = b * std::cos(angle) + a * std::sin(angle);
    }
}

double relative(const Operand& got, const std::vector<double>& want, std::size_t begin, std::size_t n) {
  double diff = 0, norm = 0;
  for (std::size_t i = begin; i < begin + n; ++i) {
    const double g = got.get(i);
    if (std::isnan(g)) return INFINITY;
    diff += (g - want[i]) * (g - want[i]);
    norm += want[i] * want[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

void cached_attention_case(DType dt, std::int64_t B, std::int64_t H, std::int64_t Dh, std::int64_t capacity,
                           const std::vector<std::int32_t>& lengths) {
  const double base = 10000.0, bound = dt == DType::bf16 ? 2e-2 : 1e-5;
  Operand q(dt, random_values(B * H * Dh, -1, 1)), k(dt, random_values(B * H * Dh, -1, 1)),
      v(dt, random_values(B * H * Dh, -1, 1));
  Operand keys(dt, random_values(B * capacity * H * Dh, -1, 1)), values(dt, random_values(B * capacity * H * Dh, -1, 1));
  std::vector<std::int32_t> positions = lengths;
  // f64 references of the append and the attention.
  std::vector<double> q_ref(q.values.begin(), q.values.end()), keys_ref(keys.values.begin(), keys.values.end()),
      values_ref(values.values.begin(), values.values.end()), out_ref(B * H * Dh);
  const std::size_t row = H * Dh;
  for (std::int64_t b = 0; b < B; ++b) {
    rotate(q_ref, b * row, H, Dh, positions[b], base);
    const std::size_t cached = (b * capacity + positions[b]) * row;
    for (std::size_t i = 0; i < row; ++i) {
      keys_ref[cached + i] = k.values[b * row + i];
      values_ref[cached + i] = v.values[b * row + i];
    }
    rotate(keys_ref, cached, H, Dh, positions[b], base);
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t n = positions[b] + 1;
      std::vector<double> s(n);
      double top = -INFINITY, total = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (std::int64_t d = 0; d < Dh; ++d)
          dot += q_ref[b * row + h * Dh + d] * keys_ref[(b * capacity + j) * row + h * Dh + d];
        top = std::max(top, s[j] = dot / std::sqrt(double(Dh)));
      }
      for (double& x : s) total += x = std::exp(x - top);
      for (std::int64_t d = 0; d < Dh; ++d) {
        double acc = 0;
        for (std::int64_t j = 0; j < n; ++j) acc += s[j] * values_ref[(b * capacity + j) * row + h * Dh + d];
        out_ref[b * row + h * Dh + d] = acc / total;
      }
    }
  }
  kc::append_to_cache(dt, q.data(), k.data(), v.data(), positions.data(), base, B, H, Dh, capacity, keys.data(),
                      values.data(), nullptr);
  Operand out(dt, std::vector<float>(B * row, NAN));
  kc::attention_decode_cached(dt, q.data(), keys.data(), values.data(), positions.data(), B, H, Dh, capacity,
                              out.data(), nullptr);
  kc::advance_positions(positions.data(), B, nullptr);
  bool advanced = true;
  for (std::int64_t b = 0; b < B; ++b) advanced = advanced && positions[b] == lengths[b] + 1;
  char text[160];
  std::snprintf(text, sizeof text, "cached decoding attention %s B=%lld H=%lld Dh=%lld capacity=%lld", name(dt),
                static_cast<long long>(B), static_cast<long long>(H), static_cast<long long>(Dh),
                static_cast<long long>(capacity));
  const double errors[] = {relative(q, q_ref, 0, B * row), relative(keys, keys_ref, 0, keys_ref.size()),
                           relative(values, values_ref, 0, values_ref.size()), relative(out, out_ref, 0, B * row)};
  check(errors[0] < bound && errors[1] < bound && errors[2] < bound && errors[3] < bound && advanced, text);

  // The one-row form reads row 0's cache with a fixed length.
  Operand single(dt, std::vector<float>(row, NAN));
  kc::attention_decode(dt, q.data(), keys.data(), values.data(), lengths[0] + 1, H, Dh, single.data(), nullptr);
  check(relative(single, out_ref, 0, row) < bound, std::string("one-row decoding attention ") + name(dt));
}

}  // namespace

int main() {
  for (DType dt : {DType::f32, DType::bf16}) {
    sampling_case(dt, 3, 7, {}, false);
    sampling_case(dt, 2, 1, {1.0, 0, 1.0}, false);
    sampling_case(dt, 3, 300, {}, true);
    sampling_case(dt, 3, 300, {1.0, 0, 1.0}, true);
    sampling_case(dt, 2, 1000, {0.7, 0, 1.0}, false);
    sampling_case(dt, 3, 1000, {1.0, 1, 1.0}, false);
    sampling_case(dt, 3, 1000, {1.0, 17, 1.0}, true);
    sampling_case(dt, 3, 1000, {1.5, 0, 0.5}, false);
    sampling_case(dt, 3, 1000, {0.8, 40, 0.9}, true);
    sampling_case(dt, 2, 1000, {1.0, 2000, 0.05}, false);
    sampling_case(dt, 2, 3001, {2.0, 300, 0.95}, false);
  }
  record_case();
  for (DType dt : {DType::f32, DType::bf16}) {
    cached_attention_case(dt, 3, 2, 8, 10, {0, 4, 9});
    cached_attention_case(dt, 2, 3, 64, 300, {299, 130});
  }
  std::printf(failures == 0 ? "all decoding kernels match\n" : "%d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
