// Runs the launchers of kernels/cuda/attention.cu and rotary.cu, compiled for the host
// through cuda_shim.h (see scripts/emulate_attention_kernels.py), against dense f64
// references written here from the mask's definition (kernels/attention.h). Small sizes
// (the emulation runs a std::thread per CUDA thread), still odd: several blocks and tiles,
// segments across tile edges, a one-token sample, an empty prompt. Exits non-zero on any
// failure.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/attention_tensor_core.h"
#include "kernels/cuda/rotary.h"
#include "kernels/cuda/segments.h"
#include "emulation_checks.h"

using namespace birdie;
namespace kc = birdie::kernels::cuda;

namespace {

using emulation_checks::check;
using emulation_checks::failures;

std::mt19937_64 rng(7);

// Values as stored in `dtype` (bf16-rounded where it is bf16), kept as doubles, and the
// raw buffer a launcher reads.
struct Operand {
  DType dtype;
  std::vector<double> values;
  std::vector<float> f32;
  std::vector<__nv_bfloat16> bf16;
  Operand(DType t, std::size_t n, double low, double high) : dtype(t), values(n) {
    std::uniform_real_distribution<double> u(low, high);
    for (auto& v : values) {
      const float f = static_cast<float>(u(rng));
      v = t == DType::bf16 ? __bfloat162float(__float2bfloat16_rn(f)) : f;
    }
    if (t == DType::bf16)
      for (double v : values) bf16.push_back(__float2bfloat16_rn(static_cast<float>(v)));
    else
      f32.assign(values.begin(), values.end());
  }
  // An output buffer of n elements, poisoned with NaN.
  Operand(DType t, std::size_t n) : dtype(t), values(n) {
    if (t == DType::bf16) bf16.assign(n, __float2bfloat16_rn(NAN));
    else f32.assign(n, NAN);
  }
  void* data() { return dtype == DType::bf16 ? static_cast<void*>(bf16.data()) : f32.data(); }
  double get(std::size_t i) const { return dtype == DType::bf16 ? __bfloat162float(bf16[i]) : f32[i]; }
};

// Relative L2 error (NaN anywhere → infinity).
double relative_error(const Operand& got, const std::vector<double>& ref) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double g = got.get(i);
    if (!std::isfinite(g)) return INFINITY;
    diff += (g - ref[i]) * (g - ref[i]);
    norm += ref[i] * ref[i];
  }
  return std::sqrt(diff / norm);
}

// Worst element: |got − ref| / max(|ref|, floor · max|ref|) (tests/cuda_test_support.h's
// elementwise measure).
double elementwise_error(const Operand& got, const std::vector<double>& ref, double floor) {
  double top = 0, worst = 0;
  for (double r : ref) top = std::max(top, std::abs(r));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double g = got.get(i);
    if (!std::isfinite(g)) return INFINITY;
    worst = std::max(worst, std::abs(g - ref[i]) / std::max(std::abs(ref[i]), floor * top));
  }
  return worst;
}

std::vector<std::int32_t> random_resets(int B, int T, int max_length) {
  std::vector<std::int32_t> reset(B * T);
  for (int b = 0; b < B; ++b) {
    std::int32_t* r = reset.data() + b * T;
    int t = 0;
    auto place = [&](int length, int prompt) {
      for (int u = 0; u < length && t < T; ++u, ++t) r[t] = (u == 0 ? 1 : 0) | (u >= prompt ? 2 : 0);
    };
    if (b == 1) {
      place(1, 1);
      place(5, 0);
    }
    while (t < T) {
      const int length = 1 + static_cast<int>(rng() % max_length);
      place(length, static_cast<int>(rng() % (length + 1)));
    }
    if (b == 0) r[0] &= ~1;
  }
  return reset;
}

// The launchers take the batch's segment bounds [2, B, T] (kernels/segments.h).
std::vector<std::int32_t> bounds_of(const std::vector<std::int32_t>& reset, int B, int T) {
  std::vector<std::int32_t> bounds(2 * std::size_t(B) * T, -7);
  kc::segment_bounds(reset.data(), B, T, bounds.data(), bounds.data() + std::size_t(B) * T, nullptr);
  return bounds;
}

bool sees(const std::int32_t* r, int i, int j, bool prefix) {
  int si = 0, sj = 0;
  for (int u = 1; u <= i; ++u) si += r[u] & 1;
  for (int u = 1; u <= j; ++u) sj += r[u] & 1;
  return si == sj && (j <= i || (prefix && !(r[i] & 2) && !(r[j] & 2)));
}

// max_length 0: samples up to T/2 + 1 tokens long.
void attention_case(DType dtype, int B, int T, int H, int Dh, bool prefix, int max_length = 0) {
  const std::size_t n = std::size_t(B) * T * H * Dh;
  const std::vector<std::int32_t> reset = random_resets(B, T, max_length ? max_length : T / 2 + 1);
  Operand q(dtype, n, -2, 2), k(dtype, n, -2, 2), v(dtype, n, -1, 1), dout(dtype, n, -1, 1);
  Operand out(dtype, n), dq(dtype, n), dk(dtype, n), dv(dtype, n);
  std::vector<float> lse(std::size_t(B) * H * T, NAN);

  // The kernels' forward first: the backward reference takes D = rowsum(dout ⊙ out) from
  // its (rounded) output, as the kernels do, so that only the arithmetic differs.
  const std::vector<std::int32_t> bounds = bounds_of(reset, B, T);
  kc::attention_forward(dtype, q.data(), k.data(), v.data(), reset.data(), bounds.data(), prefix, B, T, H, Dh, out.data(),
                        lse.data(), nullptr);
  // Dense f64 reference: forward and backward.
  std::vector<double> out_ref(n), lse_ref(lse.size()), dq_ref(n, 0.0), dk_ref(n, 0.0), dv_ref(n, 0.0);
  const double scale = 1.0 / std::sqrt(double(Dh));
  auto at = [&](int b, int t, int h) { return ((std::size_t(b) * T + t) * H + h) * Dh; };
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      std::vector<double> P(std::size_t(T) * T, 0.0);
      for (int i = 0; i < T; ++i) {
        std::vector<double> s(T, -INFINITY);
        double m = -INFINITY;
        for (int j = 0; j < T; ++j)
          if (sees(reset.data() + b * T, i, j, prefix)) {
            double dot = 0;
            for (int d = 0; d < Dh; ++d) dot += q.values[at(b, i, h) + d] * k.values[at(b, j, h) + d];
            s[j] = dot * scale;
            m = std::max(m, s[j]);
          }
        double z = 0;
        for (int j = 0; j < T; ++j) z += std::exp(s[j] - m);
        lse_ref[(std::size_t(b) * H + h) * T + i] = m + std::log(z);
        for (int j = 0; j < T; ++j) P[std::size_t(i) * T + j] = std::exp(s[j] - m) / z;
        for (int d = 0; d < Dh; ++d) {
          double acc = 0;
          for (int j = 0; j < T; ++j) acc += P[std::size_t(i) * T + j] * v.values[at(b, j, h) + d];
          out_ref[at(b, i, h) + d] = acc;
        }
      }
      for (int i = 0; i < T; ++i) {
        std::vector<double> dP(T);
        double D = 0;
        for (int j = 0; j < T; ++j) {
          double dot = 0;
          for (int d = 0; d < Dh; ++d) dot += dout.values[at(b, i, h) + d] * v.values[at(b, j, h) + d];
          dP[j] = dot;
        }
        for (int d = 0; d < Dh; ++d) D += dout.values[at(b, i, h) + d] * out.get(at(b, i, h) + d);
        for (int j = 0; j < T; ++j) {
          const double p = P[std::size_t(i) * T + j], ds = p * (dP[j] - D);
          for (int d = 0; d < Dh; ++d) {
            dq_ref[at(b, i, h) + d] += scale * ds * k.values[at(b, j, h) + d];
            dk_ref[at(b, j, h) + d] += scale * ds * q.values[at(b, i, h) + d];
            dv_ref[at(b, j, h) + d] += p * dout.values[at(b, i, h) + d];
          }
        }
      }
    }

  const bool tensor_cores = kc::attention_tensor_cores_apply(dtype, Dh, {q.data(), k.data(), v.data(), out.data()});
  const std::string name = std::string(dtype == DType::bf16 ? "bf16" : "f32") + " B=" + std::to_string(B) +
                           " T=" + std::to_string(T) + " H=" + std::to_string(H) + " Dh=" + std::to_string(Dh) +
                           (prefix ? " prefix" : " causal") + (max_length ? " samples ≤ " + std::to_string(max_length) : "") +
                           (tensor_cores ? " [tensor cores]" : " [CUDA cores]");
  Operand lse_got(DType::f32, lse.size());
  lse_got.f32 = lse;
  kc::attention_backward(dtype, q.data(), k.data(), v.data(), reset.data(), bounds.data(), prefix, B, T, H, Dh, out.data(),
                         lse.data(), dout.data(), dq.data(), dk.data(), dv.data(), nullptr);
  const double bound = dtype == DType::bf16 ? 1e-2 : 1e-5, gradient_bound = dtype == DType::bf16 ? 1e-2 : 5e-5;
  const double e_out = relative_error(out, out_ref), e_lse = relative_error(lse_got, lse_ref);
  const double e_dq = relative_error(dq, dq_ref), e_dk = relative_error(dk, dk_ref), e_dv = relative_error(dv, dv_ref);
  // Elementwise, with the floors tests/cuda_attention_tests.cpp allows (tensor cores round
  // P and dS to bf16 before their products: small elements carry the absolute error of
  // their terms), 2^-6 for bf16, 1e-5 relative to the largest for f32.
  const double floor = dtype == DType::f32 ? 1.0 : tensor_cores ? 0.5 : 1e-3;
  const double element_bound = dtype == DType::f32 ? 5e-5 : 0x1p-6;
  double worst = 0;
  for (const auto& [got, ref] : {std::pair{&out, &out_ref}, {&dq, &dq_ref}, {&dk, &dk_ref}, {&dv, &dv_ref}})
    worst = std::max(worst, elementwise_error(*got, *ref, floor));
  char numbers[200];
  std::snprintf(numbers, sizeof numbers, ": out %.2g lse %.2g dq %.2g dk %.2g dv %.2g (worst element %.2g)", e_out,
                e_lse, e_dq, e_dk, e_dv, worst);
  check(e_out < bound && e_lse < 1e-5 && e_dq < gradient_bound && e_dk < gradient_bound && e_dv < gradient_bound &&
            worst < element_bound,
        "attention " + name + numbers);
}

void rotary_case(DType dtype, int B, int T, int H, int Dh) {
  const std::size_t n = std::size_t(B) * T * H * Dh;
  const std::vector<std::int32_t> reset = random_resets(B, T, 40);
  Operand x(dtype, n, -1, 1), y(dtype, n), back(dtype, n);
  std::vector<double> ref(n);
  for (int b = 0; b < B; ++b) {
    int start = 0;
    for (int t = 0; t < T; ++t) {
      if (reset[b * T + t] & 1) start = t;
      for (int d = 0; d < Dh / 2; ++d) {
        const double angle = (t - start) * std::pow(10000.0, -2.0 * d / Dh);
        for (int h = 0; h < H; ++h) {
          const std::size_t a = ((std::size_t(b) * T + t) * H + h) * Dh + d;
          ref[a] = x.values[a] * std::cos(angle) - x.values[a + Dh / 2] * std::sin(angle);
          ref[a + Dh / 2] = x.values[a + Dh / 2] * std::cos(angle) + x.values[a] * std::sin(angle);
        }
      }
    }
  }
  const std::vector<std::int32_t> bounds = bounds_of(reset, B, T);
  kc::rotary(dtype, x.data(), bounds.data(), 10000, +1, B, T, H, Dh, y.data(), nullptr);
  kc::rotary(dtype, y.data(), bounds.data(), 10000, -1, B, T, H, Dh, back.data(), nullptr);
  const double bound = dtype == DType::bf16 ? 1e-2 : 1e-5;
  const double e = relative_error(y, ref), e_back = relative_error(back, x.values);
  char numbers[120];
  std::snprintf(numbers, sizeof numbers, "rotary %s T=%d Dh=%d: forward %.2g, round trip %.2g",
                dtype == DType::bf16 ? "bf16" : "f32", T, Dh, e, e_back);
  check(e < bound && e_back < bound, numbers);
}

// Segment bounds against their definition: rows shorter and longer than the kernel's
// 256 chunks, one-token samples, a row that never resets.
void segments_case(int B, int T, int max_length) {
  std::vector<std::int32_t> reset = random_resets(B, T, max_length);
  for (int t = 0; t < T; ++t) reset[t] = t == T / 2 ? 1 : 0;  // row 0: two segments (one if T = 1)
  const std::vector<std::int32_t> bounds = bounds_of(reset, B, T);
  int wrong = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) {
      const std::int32_t* r = reset.data() + std::size_t(b) * T;
      int start = t, end = t + 1;
      while (start > 0 && !(r[start] & 1)) --start;
      while (end < T && !(r[end] & 1)) ++end;
      wrong += bounds[std::size_t(b) * T + t] != start;
      wrong += bounds[std::size_t(B + b) * T + t] != end;
    }
  check(wrong == 0, "segment bounds B=" + std::to_string(B) + " T=" + std::to_string(T) + ": " +
                        std::to_string(wrong) + " wrong");
}

}  // namespace

int main() {
  // The dispatch: bf16 at 64 and 128 with every operand 16-byte aligned, nothing else.
  alignas(16) static char buffer[64];
  check(kc::attention_tensor_cores_apply(DType::bf16, 64, {buffer, buffer + 16}) &&
            kc::attention_tensor_cores_apply(DType::bf16, 128, {buffer}) &&
            !kc::attention_tensor_cores_apply(DType::bf16, 128, {buffer, buffer + 2}) &&
            !kc::attention_tensor_cores_apply(DType::f32, 64, {buffer}) &&
            !kc::attention_tensor_cores_apply(DType::bf16, 96, {buffer}) &&
            !kc::attention_tensor_cores_apply(DType::bf16, 40, {buffer}),
        "tensor cores for bf16 at head dims 64 and 128 with aligned operands only");
  segments_case(3, 1, 1);
  segments_case(3, 77, 5);
  segments_case(2, 1000, 40);
  segments_case(2, 1000, 1);
  // Tensor cores (bf16, Dh 64 and 128): odd lengths, several query blocks and streamed
  // tiles, short samples (segment edges inside tiles) and long ones (wholly visible tiles).
  attention_case(DType::bf16, 2, 77, 1, 64, false);
  attention_case(DType::bf16, 2, 77, 1, 64, true);
  attention_case(DType::bf16, 1, 150, 1, 64, false, 150);
  attention_case(DType::bf16, 1, 150, 1, 64, true, 150);
  attention_case(DType::bf16, 2, 61, 1, 128, false);
  attention_case(DType::bf16, 2, 61, 1, 128, true);
  attention_case(DType::bf16, 1, 133, 1, 128, false, 133);
  attention_case(DType::bf16, 1, 133, 2, 128, true, 133);
  // CUDA cores: f32, head dims off the tensor-core set.
  attention_case(DType::f32, 2, 77, 2, 64, false);
  attention_case(DType::f32, 2, 77, 2, 64, true);
  attention_case(DType::f32, 1, 45, 1, 128, true);
  attention_case(DType::bf16, 1, 50, 2, 40, true);
  attention_case(DType::f32, 1, 33, 1, 6, true);
  rotary_case(DType::f32, 2, 77, 3, 64);
  rotary_case(DType::bf16, 2, 77, 3, 128);
  rotary_case(DType::f32, 1, 9, 2, 6);
  std::printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
