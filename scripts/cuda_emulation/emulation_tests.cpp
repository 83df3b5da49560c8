// Runs the launchers of kernels/cuda/{scan,rmsnorm,embedding,elementwise,cross_entropy,
// reduce,conv1d,rglru,adamw}.cu, compiled for
// the host through cuda_shim.h (see scripts/emulate_cuda_kernels.py), against direct f64
// references, and checks that the 16-byte-vector and scalar paths give the same bits.
// Exits non-zero on the first failure.
#include <cstdio>
#include <random>
#include <string>

#include "kernels/adamw_status.h"
#include "kernels/cuda/adamw.h"
#include "kernels/cuda/conv1d.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/embedding.h"
#include "kernels/cuda/rglru.h"
#include "kernels/cuda/rmsnorm.h"
#include "kernels/cuda/scan.h"

using namespace birdie;
namespace kc = birdie::kernels::cuda;

namespace {

int failures = 0;

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g", v);
  return text;
}

void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::size_t size_of(DType t) { return t == DType::bf16 ? 2 : t == DType::f64 ? 8 : 4; }

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

std::mt19937_64 rng(12345);
double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

void fill(Buffer& b, double lo, double hi) {
  for (std::int64_t i = 0; i < b.n; ++i) b.set(i, uniform(lo, hi));
}

// max |a − b| / max |b|
double relative(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    if (std::isnan(a[i])) continue;
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return den == 0 ? num : num / den;
}

double bound(DType t) { return t == DType::bf16 ? 1e-2 : 2e-5; }

double sig(double x) { return 1 / (1 + std::exp(-x)); }
double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelud(double x) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}

// ------------------------------------------------------------------ scan
void scan_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t N, bool reference = true) {
  const std::string name = std::string("scan (") + kc::scan_kernel_name(kc::scan_kernel()) + ") " +
                           (dt == DType::bf16 ? "bf16" : "f32") +
                           (bidir ? " bidir" : " causal") + " B=" + std::to_string(B) +
                           " T=" + std::to_string(T) + " N=" + std::to_string(N);
  const std::int64_t C = kc::scan_chunk_count(T);
  Buffer proj(dt, B * T * 4 * N), dy(dt, B * T * N);
  fill(proj, -2, 2);
  fill(dy, -1, 1);
  std::vector<std::int32_t> reset(B * T);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      const int r = static_cast<int>(rng() % 12);
      reset[b * T + t] = (t == 0 ? 1 : 0) | (r == 0 ? 1 : r == 1 ? 2 : r == 2 ? 3 : 0);
    }
  auto run = [&](std::size_t off, Buffer& y, Buffer& dproj) {
    Buffer p(dt, proj.n, off), g(dt, dy.n, off);
    for (std::int64_t i = 0; i < proj.n; ++i) p.set(i, proj.get(i));
    for (std::int64_t i = 0; i < dy.n; ++i) g.set(i, dy.get(i));
    Buffer saved(DType::f32, B * C * N), scratch(DType::f32, kc::scan_scratch_elements(B, T, N));
    kc::gated_scan_forward(dt, p.data(), reset.data(), bidir, B, T, N, y.data(),
                           static_cast<float*>(saved.data()), static_cast<float*>(scratch.data()), nullptr);
    kc::gated_scan_backward(dt, p.data(), reset.data(), bidir, B, T, N,
                            static_cast<const float*>(saved.data()), g.data(), dproj.data(),
                            static_cast<float*>(scratch.data()), nullptr);
  };
  Buffer y(dt, B * T * N), dproj(dt, B * T * 4 * N);
  run(0, y, dproj);
  Buffer y1(dt, B * T * N, 1), dproj1(dt, B * T * 4 * N, 1);
  run(1, y1, dproj1);
  check(y.same_bits(y1) && dproj.same_bits(dproj1), name + ": aligned (vector) and offset (scalar) runs agree bit for bit");
  if (!reference) return;
  const auto P = proj.values(), G = dy.values();
  std::vector<double> yr(B * T * N), dr(B * T * 4 * N);
  auto blocked = [&](std::int64_t b, bool r, std::int64_t t) {
    if (!r) return (reset[b * T + t] & 1) != 0;
    return t == T - 1 || (reset[b * T + t + 1] & 1) != 0 || (reset[b * T + t] & 2) != 0;
  };
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t c = 0; c < N; ++c) {
      const bool r = bidir && c >= N / 2;
      std::vector<double> st(T);
      double h = 0;
      for (std::int64_t s = 0; s < T; ++s) {
        const std::int64_t t = r ? T - 1 - s : s;
        const double* p = &P[(b * T + t) * 4 * N];
        const double f = blocked(b, r, t) ? 0 : sig(p[N + c]);
        h = f * h + sig(p[c]) * p[2 * N + c];
        st[s] = h;
        yr[(b * T + t) * N + c] = gelu(p[3 * N + c]) * h;
      }
      double carry = 0;
      for (std::int64_t s = T - 1; s >= 0; --s) {
        const std::int64_t t = r ? T - 1 - s : s;
        const double* p = &P[(b * T + t) * 4 * N];
        double* d = &dr[(b * T + t) * 4 * N];
        const double g = G[(b * T + t) * N + c], hin = s > 0 ? st[s - 1] : 0;
        const double dh = g * gelu(p[3 * N + c]) + carry, si = sig(p[c]);
        const bool bl = blocked(b, r, t);
        const double f = bl ? 0 : sig(p[N + c]);
        d[c] = dh * p[2 * N + c] * si * (1 - si);
        d[N + c] = bl ? 0 : dh * hin * f * (1 - f);
        d[2 * N + c] = dh * si;
        d[3 * N + c] = g * st[s] * gelud(p[3 * N + c]);
        carry = f * dh;
      }
    }
  const double ey = relative(y.values(), yr), ed = relative(dproj.values(), dr);
  check(ey < bound(dt) && ed < bound(dt),
        name + ": y rel " + num(ey) + ", dproj rel " + num(ed));
}

// ------------------------------------------------------------------ RMSNorm
void rmsnorm_case(DType dt, DType stats, std::int64_t rows, std::int64_t D, bool residual) {
  const std::string name = std::string("rmsnorm ") + (dt == DType::bf16 ? "bf16" : "f32") +
                           (stats == DType::bf16 ? " bf16-stats" : "") + (residual ? " residual" : "") +
                           " rows=" + std::to_string(rows) + " D=" + std::to_string(D);
  Buffer x(dt, rows * D), r(dt, rows * D), w(dt, D), dy(dt, rows * D), dw0(DType::f32, D);
  fill(x, -2, 2);
  fill(r, -2, 2);
  fill(w, 0.5, 1.5);
  fill(dy, -1, 1);
  fill(dw0, -1, 1);
  const double eps = 1e-5;
  struct Out {
    Buffer h, y, inv, dx, dw;
  };
  auto run = [&](std::size_t off) {
    Buffer xo(dt, x.n, off), ro(dt, r.n, off), wo(dt, w.n, off), dyo(dt, dy.n, off);
    for (std::int64_t i = 0; i < x.n; ++i) xo.set(i, x.get(i)), ro.set(i, r.get(i)), dyo.set(i, dy.get(i));
    for (std::int64_t i = 0; i < w.n; ++i) wo.set(i, w.get(i));
    Out o{Buffer(dt, rows * D, off), Buffer(dt, rows * D, off), Buffer(stats, rows), Buffer(dt, rows * D, off),
          Buffer(DType::f32, D)};
    for (std::int64_t i = 0; i < D; ++i) o.dw.set(i, dw0.get(i));
    kc::rmsnorm_forward(dt, stats, xo.data(), residual ? ro.data() : nullptr, residual ? o.h.data() : nullptr,
                        wo.data(), eps, rows, D, o.y.data(), o.inv.data(), nullptr);
    const void* normalized = residual ? o.h.data() : xo.data();
    kc::rmsnorm_backward(dt, stats, DType::f32, normalized, wo.data(), o.inv.data(), dyo.data(), rows, D,
                         o.dx.data(), o.dw.data(), nullptr);
    return o;
  };
  Out a = run(0), b = run(1);
  check(a.y.same_bits(b.y) && a.inv.same_bits(b.inv) && a.dx.same_bits(b.dx) && a.dw.same_bits(b.dw) &&
            (!residual || a.h.same_bits(b.h)),
        name + ": aligned (vector) and offset (scalar) runs agree bit for bit");
  // reference from the stored h (residual) or x, and the stored inv_rms
  std::vector<double> yr(rows * D), dxr(rows * D), dwr(D), invr(rows), hr(rows * D);
  for (std::int64_t i = 0; i < D; ++i) dwr[i] = dw0.get(i);
  for (std::int64_t q = 0; q < rows; ++q) {
    double ss = 0;
    for (std::int64_t j = 0; j < D; ++j) {
      double v = x.get(q * D + j);
      if (residual) {  // the kernel's f32 sum, rounded to the storage type
        const float sum = static_cast<float>(v + r.get(q * D + j));
        v = dt == DType::bf16 ? __bfloat162float(__float2bfloat16_rn(sum)) : sum;
      }
      hr[q * D + j] = v;
      ss += v * v;
    }
    invr[q] = 1 / std::sqrt(ss / D + eps);
    const double inv = a.inv.get(q);
    double dot = 0;
    for (std::int64_t j = 0; j < D; ++j) {
      yr[q * D + j] = hr[q * D + j] * inv * w.get(j);
      dot += dy.get(q * D + j) * w.get(j) * hr[q * D + j] * inv;
    }
    for (std::int64_t j = 0; j < D; ++j) {
      const double n = hr[q * D + j] * inv;
      dxr[q * D + j] = inv * (dy.get(q * D + j) * w.get(j) - n * dot / D);
      dwr[j] += dy.get(q * D + j) * n;
    }
  }
  const double ey = relative(a.y.values(), yr), ei = relative(a.inv.values(), invr),
               ex = relative(a.dx.values(), dxr), ew = relative(a.dw.values(), dwr),
               eh = residual ? relative(a.h.values(), hr) : 0.0;
  const double bi = stats == DType::bf16 ? 1e-2 : 2e-5;
  check(ey < bound(dt) && ei < bi && ex < bound(dt) && ew < bound(dt) && eh == 0.0,
        name + ": y " + num(ey) + " inv " + num(ei) + " dx " + num(ex) +
            " dweight " + num(ew) + " h " + num(eh));
}

// ------------------------------------------------------------------ embedding
void embedding_case(DType gt, DType wt, std::int64_t count, std::int64_t V, std::int64_t D, bool invalid) {
  const std::string name = std::string("embedding ") + (gt == DType::bf16 ? "bf16" : "f32") + "→" +
                           (wt == DType::bf16 ? "bf16" : "f32") + " count=" + std::to_string(count) +
                           " V=" + std::to_string(V) + " D=" + std::to_string(D) + (invalid ? " with invalid ids" : "");
  std::vector<std::int32_t> ids(count);
  const std::int32_t bad[] = {-1, -7, static_cast<std::int32_t>(V), static_cast<std::int32_t>(V + 1), 2147483647,
                              static_cast<std::int32_t>(V + 1024)};
  for (auto& id : ids) {
    // Zipf-like: a few ids very often, so runs are long.
    const double u = uniform(0, 1);
    id = static_cast<std::int32_t>(std::min<double>(V - 1, std::floor(V * u * u * u)));
    if (invalid && rng() % 7 == 0) id = bad[rng() % 6];
  }
  Buffer table(gt, V * D), dout(gt, count * D), dtable0(wt, V * D);
  fill(table, -1, 1);
  fill(dout, -1, 1);
  fill(dtable0, -1, 1);
  auto run = [&](std::size_t off) {
    Buffer t(gt, table.n, off), o(gt, count * D, off), g(gt, dout.n, off), dt(wt, V * D, off);
    for (std::int64_t i = 0; i < table.n; ++i) t.set(i, table.get(i));
    for (std::int64_t i = 0; i < dout.n; ++i) g.set(i, dout.get(i));
    for (std::int64_t i = 0; i < dt.n; ++i) dt.set(i, dtable0.get(i));
    kc::embedding_forward(gt, t.data(), ids.data(), count, V, D, o.data(), nullptr);
    kc::embedding_backward(gt, wt, ids.data(), count, V, D, g.data(), dt.data(), nullptr);
    return std::make_pair(std::move(o), std::move(dt));
  };
  auto a = run(0), b = run(1);
  check(a.first.same_bits(b.first) && a.second.same_bits(b.second),
        name + ": aligned (vector) and offset (scalar) runs agree bit for bit");
  bool gather_ok = true;
  for (std::int64_t r = 0; r < count; ++r)
    for (std::int64_t j = 0; j < D; ++j) {
      const double v = a.first.get(r * D + j);
      const bool valid = ids[r] >= 0 && ids[r] < V;
      gather_ok &= valid ? v == table.get(ids[r] * D + j) : std::isnan(v);
    }
  check(gather_ok, name + ": forward gather exact, NaN rows for invalid ids");
  std::vector<double> ref = dtable0.values();
  std::vector<double> sums(V * D, 0.0);
  for (std::int64_t r = 0; r < count; ++r)
    if (ids[r] >= 0 && ids[r] < V)
      for (std::int64_t j = 0; j < D; ++j) sums[ids[r] * D + j] += dout.get(r * D + j);
  for (std::int64_t i = 0; i < V * D; ++i) ref[i] += sums[i];
  const double e = relative(a.second.values(), ref);
  check(e < (wt == DType::bf16 ? 1e-2 : 1e-5), name + ": backward rel " + num(e));
}

// ------------------------------------------------------------------ row sums
void sum_rows_case(DType t, std::int64_t rows, std::int64_t width) {
  Buffer in(t, rows * width), out(DType::f32, rows);
  fill(in, -1, 1);
  kc::sum_rows(t, DType::f32, in.data(), out.data(), rows, width, nullptr);
  std::vector<double> ref(rows, 0.0);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < width; ++j) ref[r] += in.get(r * width + j);
  const double e = relative(out.values(), ref);
  check(e < 1e-5, "sum_rows rows=" + std::to_string(rows) + " width=" + std::to_string(width) + ": rel " +
                      num(e));
}

// ------------------------------------------------------------------ elementwise maps
// Every binary and unary op on n elements (b of nb, broadcast when nb < n): aligned buffers
// take the 16-byte path when n and nb allow it, buffers one element off the scalar one;
// the two must agree bit for bit, and with f64.
void elementwise_case(DType t, std::int64_t n, std::int64_t nb) {
  Buffer a(t, n), b(t, nb);
  fill(a, -3, 3);
  fill(b, -3, 3);
  const std::string shape = std::string(t == DType::bf16 ? "bf16" : "f32") + " n=" + std::to_string(n) +
                            " nb=" + std::to_string(nb);
  auto run = [&](std::size_t off, auto&& launch) {
    Buffer x(t, n, off), y(t, nb, off), out(t, n, off);
    for (std::int64_t i = 0; i < n; ++i) x.set(i, a.get(i));
    for (std::int64_t i = 0; i < nb; ++i) y.set(i, b.get(i));
    launch(x, y, out);
    return out;
  };
  const char* binary_names[] = {"add", "mul", "sigmoid_backward", "gelu_backward"};
  for (int op = 0; op < 4; ++op) {
    auto launch = [&](Buffer& x, Buffer& y, Buffer& out) {
      kc::binary(t, static_cast<kc::BinaryOp>(op), x.data(), y.data(), out.data(), n, nb, nullptr);
    };
    const Buffer vec = run(0, launch), scalar = run(1, launch);
    std::vector<double> ref(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double x = a.get(i), y = b.get(i % nb);
      ref[i] = op == 0 ? x + y : op == 1 ? x * y : op == 2 ? y * x * (1 - x) : y * gelud(x);
    }
    const double e = relative(vec.values(), ref);
    check(vec.same_bits(scalar) && e < bound(t),
          std::string("binary ") + binary_names[op] + " " + shape + ": vector and scalar paths agree, rel " + num(e));
  }
  const char* unary_names[] = {"scale", "sigmoid", "gelu"};
  for (int op = 0; op < 3; ++op) {
    auto launch = [&](Buffer& x, Buffer&, Buffer& out) {
      kc::unary(t, static_cast<kc::UnaryOp>(op), x.data(), out.data(), n, 0.75, nullptr);
    };
    const Buffer vec = run(0, launch), scalar = run(1, launch);
    std::vector<double> ref(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double x = a.get(i);
      ref[i] = op == 0 ? 0.75 * x : op == 1 ? sig(x) : gelu(x);
    }
    const double e = relative(vec.values(), ref);
    check(vec.same_bits(scalar) && e < bound(t),
          std::string("unary ") + unary_names[op] + " " + shape + ": vector and scalar paths agree, rel " + num(e));
  }
}

// ------------------------------------------------------------------ cross-entropy
// rows × V logits (f32 or bf16, `offset` elements past alignment), targets with an
// ignored row, a row whose only finite logit is the target, −inf logits elsewhere, and an
// invalid target (NaN row); against f64.
void cross_entropy_case(DType lt, DType st, std::int64_t rows, std::int64_t V, std::size_t offset = 0) {
  const std::string name = std::string("cross_entropy ") + (lt == DType::bf16 ? "bf16" : "f32") + "/" +
                           (st == DType::bf16 ? "bf16" : "f32") + " rows=" + std::to_string(rows) +
                           " V=" + std::to_string(V) + (offset ? " misaligned" : "");
  Buffer logits(lt, rows * V, offset), dlogits(lt, rows * V, offset), loss(st, rows);
  fill(logits, -8, 8);
  std::vector<std::int32_t> targets(rows);
  for (std::int64_t r = 0; r < rows; ++r) targets[r] = static_cast<std::int32_t>((r * 7919 + 13) % V);
  targets[1] = -1;                                   // ignored
  for (std::int64_t j = 0; j < V; ++j)               // only the target finite
    if (j != targets[2]) logits.set(2 * V + j, -INFINITY);
  for (std::int64_t j = 0; j < V; j += 3) if (j != targets[0]) logits.set(j, -INFINITY);
  targets[3] = static_cast<std::int32_t>(V);          // invalid: NaN row
  const double scale = 1.0 / double(rows - 2);
  kc::cross_entropy_forward_backward(lt, st, logits.data(), targets.data(), rows, V, scale, loss.data(),
                                     dlogits.data(), nullptr);
  std::vector<double> ref_loss(rows), ref_d(rows * V);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int32_t t = targets[r];
    if (t == -1 || t >= V) {
      const double v = t == -1 ? 0.0 : NAN;
      ref_loss[r] = v;
      for (std::int64_t j = 0; j < V; ++j) ref_d[r * V + j] = v;
      continue;
    }
    double m = -INFINITY, s = 0;
    for (std::int64_t j = 0; j < V; ++j) m = std::max(m, logits.get(r * V + j));
    for (std::int64_t j = 0; j < V; ++j) s += std::exp(logits.get(r * V + j) - m);
    ref_loss[r] = std::log(s) + m - logits.get(r * V + t);
    for (std::int64_t j = 0; j < V; ++j)
      ref_d[r * V + j] = (std::exp(logits.get(r * V + j) - m) / s - (j == t)) * scale;
  }
  const double el = relative(loss.values(), ref_loss), ed = relative(dlogits.values(), ref_d);
  check(el < (st == DType::bf16 ? 1e-2 : 1e-5) && ed < bound(lt), name + ": loss rel " + num(el) + ", dlogits rel " + num(ed));
  check(loss.get(2) == 0.0 && dlogits.get(2 * V + targets[2]) == 0.0, name + ": a lone finite target gives exactly 0");
  // Forward only, same losses bit for bit.
  Buffer loss2(st, rows);
  kc::cross_entropy_forward_backward(lt, st, logits.data(), targets.data(), rows, V, scale, loss2.data(), nullptr,
                                     nullptr);
  check(loss2.same_bits(loss), name + ": forward-only losses equal");
}

// ------------------------------------------------------------------ reductions
void reduce_case(DType t, std::int64_t n) {
  Buffer x(t, n);
  fill(x, -1, 1);
  double ref = 0, squares = 0;
  for (std::int64_t i = 0; i < n; ++i) ref += x.get(i), squares += x.get(i) * x.get(i);
  float out32 = 0;
  double out64 = 0;
  kc::reduce(t, kc::ReduceOp::sum, x.data(), n, 0.5, DType::f32, &out32, nullptr);
  kc::reduce(t, kc::ReduceOp::sum_of_squares, x.data(), n, 1.0, DType::f64, &out64, nullptr);
  check(std::abs(out32 - 0.5 * ref) <= 1e-6 * std::max(1.0, std::abs(ref)) && std::abs(out64 - squares) <= 1e-12 * squares,
        "reduce n=" + std::to_string(n) + ": scaled f32 sum and f64 sum of squares");
}

// ------------------------------------------------------------------ AdamW
// The device-side decision (one thread) from the gradient's sum of squares, then the update
// reading it: a clipped step, an unclipped one, and steps skipped for a non-finite gradient
// or loss, which must write nothing at all.
// A copy of b one element further from 16-byte alignment.
Buffer shifted(const Buffer& b) {
  Buffer out(b.type, b.n, 1);
  for (std::int64_t i = 0; i < b.n; ++i) out.set(i, b.get(i));
  return out;
}

void adamw_case(std::int64_t n) {
  namespace slot = birdie::kernels::adamw_status;
  const std::vector<std::int64_t> starts{0, n / 3, n / 3 + 7};
  const std::vector<std::uint8_t> decay{1, 0, 1};
  const kc::AdamWScalars h{3e-3, 0.9, 0.95, 1e-8, 0.1};
  const double clip_norm = 1.0;
  Buffer p(DType::f32, n), m(DType::f32, n), v(DType::f32, n), copy(DType::bf16, n);
  fill(p, -1, 1);
  fill(m, -0.1, 0.1);
  fill(v, 0, 0.01);
  std::vector<double> status(slot::size, 0.0);
  status[slot::steps] = 4;  // four steps taken before
  const struct { double scale; bool loss_finite; } steps_taken[] = {{0.5, true}, {1e-4, true}, {NAN, true}, {0.5, false}};
  for (const auto [scale, loss_finite] : steps_taken) {
    const std::string name = "adamw n=" + std::to_string(n) + " gradient scale " + num(scale) +
                             (loss_finite ? "" : ", NaN loss");
    Buffer g(DType::f32, n);
    fill(g, -scale, scale);
    if (std::isnan(scale)) g.set(n / 2, NAN);
    double squares = 0;
    for (std::int64_t i = 0; i < n; ++i) squares += g.get(i) * g.get(i);
    status[slot::squares] = squares;
    status[slot::loss] = loss_finite ? 2.0 : NAN;
    const std::vector<double> before = status;
    kc::adamw_decide(status.data(), h.beta1, h.beta2, clip_norm, nullptr);
    // The host's decision, as the optimizer made it before the device took it over.
    const double norm = std::sqrt(squares);
    const bool skip = !std::isfinite(norm) || !loss_finite;
    const double steps = before[slot::steps] + (skip ? 0 : 1);
    const double grad_scale = norm > clip_norm ? clip_norm / norm : 1.0;
    bool decided = std::memcmp(&status[slot::norm], &norm, 8) == 0 && status[slot::skipped] == (skip ? 1.0 : 0.0) &&
                   status[slot::steps] == steps;
    if (!skip)
      decided = decided && status[slot::grad_scale] == grad_scale &&
                status[slot::correction1] == 1.0 - std::pow(h.beta1, steps) &&
                status[slot::correction2] == 1.0 - std::pow(h.beta2, steps);
    else
      for (int k : {int(slot::grad_scale), int(slot::correction1), int(slot::correction2)})
        decided = decided && std::memcmp(&status[k], &before[k], 8) == 0;
    check(decided, name + ": the decision (norm, skip, step count, clip factor, corrections) as on the host");
    // The update, against the same arithmetic in f64 here.
    std::vector<double> ref_p(n), ref_m(n), ref_v(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const int s = i < starts[1] ? 0 : i < starts[2] ? 1 : 2;
      const double decay_factor = decay[s] ? 1.0 - h.lr * h.weight_decay : 1.0;
      const double gi = g.get(i) * status[slot::grad_scale];
      ref_m[i] = h.beta1 * m.get(i) + (1.0 - h.beta1) * gi;
      ref_v[i] = h.beta2 * v.get(i) + (1.0 - h.beta2) * gi * gi;
      const double update = (ref_m[i] / status[slot::correction1]) / (std::sqrt(ref_v[i] / status[slot::correction2]) + h.eps);
      ref_p[i] = double(float(p.get(i) * float(decay_factor))) - h.lr * update;
    }
    Buffer p2 = p, m2 = m, v2 = v, copy2 = copy;
    kc::adamw_step(static_cast<float*>(p2.data()), static_cast<const float*>(g.data()), static_cast<float*>(m2.data()),
                   static_cast<float*>(v2.data()), n, starts.data(), decay.data(), int(starts.size()), h, status.data(),
                   copy2.data(), nullptr);
    if (skip) {
      check(p2.same_bits(p) && m2.same_bits(m) && v2.same_bits(v) && copy2.same_bits(copy),
            name + ": skipped, nothing written");
      continue;
    }
    // Buffers one element off 16-byte alignment take the scalar path: the same bits.
    Buffer ps = shifted(p), gs = shifted(g), ms = shifted(m), vs = shifted(v), copys = shifted(copy);
    kc::adamw_step(static_cast<float*>(ps.data()), static_cast<const float*>(gs.data()), static_cast<float*>(ms.data()),
                   static_cast<float*>(vs.data()), n, starts.data(), decay.data(), int(starts.size()), h, status.data(),
                   copys.data(), nullptr);
    check(ps.same_bits(p2) && ms.same_bits(m2) && vs.same_bits(v2) && copys.same_bits(copy2),
          name + ": unaligned buffers (scalar path) give the vector path's bits");
    bool rounded = true;
    for (std::int64_t i = 0; i < n; ++i) rounded = rounded && copy2.get(i) == double(__bfloat162float(__float2bfloat16_rn(float(p2.get(i)))));
    const double ep = relative(p2.values(), ref_p), em = relative(m2.values(), ref_m), ev = relative(v2.values(), ref_v);
    check(ep < 1e-6 && em < 1e-6 && ev < 1e-6 && rounded,
          name + ": params rel " + num(ep) + ", m " + num(em) + ", v " + num(ev) + ", compute copy rounded");
    p = p2, m = m2, v = v2, copy = copy2;
  }
}

// ------------------------------------------------------------------ Hawk: conv1d and RG-LRU
// Reset masks with segment starts (1), causal positions (2) and both (3), plus segment
// starts on and just after chunk boundaries (16, 33).
std::vector<std::int32_t> hawk_reset(std::int64_t B, std::int64_t T) {
  std::vector<std::int32_t> reset(B * T);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < T; ++t) {
      const int r = static_cast<int>(rng() % 12);
      reset[b * T + t] = (t == 0 || t == 16 || t == 33 ? 1 : 0) | (r == 0 ? 1 : r == 1 ? 2 : r == 2 ? 3 : 0);
    }
  return reset;
}

void conv1d_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t K) {
  const std::string name = std::string("conv1d ") + (dt == DType::bf16 ? "bf16" : "f32") + (bidir ? " bidir" : " causal") +
                           " B=" + std::to_string(B) + " T=" + std::to_string(T) + " C=" + std::to_string(C) +
                           " K=" + std::to_string(K);
  Buffer x(dt, B * T * C), w(dt, K * C), bias(dt, C), dy(dt, B * T * C), y(dt, B * T * C), dx(dt, B * T * C);
  Buffer dw(DType::f32, K * C), db(DType::f32, C);
  fill(x, -1, 1), fill(w, -1, 1), fill(bias, -1, 1), fill(dy, -1, 1), fill(dw, -1, 1), fill(db, -1, 1);
  const auto dw0 = dw.values(), db0 = db.values();
  const auto reset = hawk_reset(B, T);
  Buffer scratch(DType::f32, kc::conv1d_scratch_elements(B, T, C, K));
  kc::causal_conv1d_forward(dt, x.data(), w.data(), bias.data(), reset.data(), bidir, B, T, C, K, y.data(), nullptr);
  kc::causal_conv1d_backward(dt, DType::f32, x.data(), w.data(), reset.data(), bidir, B, T, C, K, dy.data(), dx.data(),
                             dw.data(), db.data(), static_cast<float*>(scratch.data()), nullptr);
  // Direct f64 evaluation from segment ids (kernels/conv1d.h), forward and its adjoint.
  const auto X = x.values(), W = w.values(), Bv = bias.values(), G = dy.values();
  std::vector<double> yr(B * T * C), dxr(B * T * C, 0.0), dwr = dw0, dbr = db0;
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int32_t* r = &reset[b * T];
    std::vector<int> seg(T);
    for (std::int64_t t = 0, n = 0; t < T; ++t) seg[t] = static_cast<int>(n += (t == 0 || (r[t] & 1)));
    for (std::int64_t t = 0; t < T; ++t)
      for (std::int64_t c = 0; c < C; ++c) {
        const bool ahead = bidir && c >= C / 2;
        const std::int64_t e = (b * T + t) * C + c;
        double sum = Bv[c];
        dbr[c] += G[e];
        for (std::int64_t k = 0; k < K; ++k) {
          const std::int64_t src = ahead ? t + k : t - k;
          if (src < 0 || src >= T || seg[src] != seg[t]) continue;
          if (ahead && k > 0 && ((r[t] & 2) || (r[src] & 2))) continue;
          const std::int64_t se = (b * T + src) * C + c;
          sum += W[k * C + c] * X[se];
          dxr[se] += W[k * C + c] * G[e];
          dwr[k * C + c] += G[e] * X[se];
        }
        yr[e] = sum;
      }
  }
  const double ey = relative(y.values(), yr), ex = relative(dx.values(), dxr);
  const double ew = relative(dw.values(), dwr), eb = relative(db.values(), dbr);
  check(ey < bound(dt) && ex < bound(dt) && ew < 2e-5 && eb < 2e-5,
        name + ": y rel " + num(ey) + ", dx rel " + num(ex) + ", dweight rel " + num(ew) + ", dbias rel " + num(eb));
}

void rglru_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C) {
  const std::string name = std::string("rglru ") + (dt == DType::bf16 ? "bf16" : "f32") + (bidir ? " bidir" : " causal") +
                           " B=" + std::to_string(B) + " T=" + std::to_string(T) + " C=" + std::to_string(C);
  const std::int64_t chunks = kc::rglru_chunk_count(T);
  Buffer proj(dt, B * T * 3 * C), dy(dt, B * T * C), lambda(DType::f32, C), dl0(DType::f32, C);
  fill(proj, -2, 2), fill(dy, -1, 1), fill(lambda, -2, 5), fill(dl0, -1, 1);
  for (std::int64_t c = 1; c < C; c += 3) lambda.set(c, 9.0);  // a near 0.999
  const auto reset = hawk_reset(B, T);
  auto run = [&](std::size_t off, Buffer& y, Buffer& dproj, Buffer& dlambda) {
    Buffer p(dt, proj.n, off), g(dt, dy.n, off);
    for (std::int64_t i = 0; i < proj.n; ++i) p.set(i, proj.get(i));
    for (std::int64_t i = 0; i < dy.n; ++i) g.set(i, dy.get(i));
    for (std::int64_t i = 0; i < C; ++i) dlambda.set(i, dl0.get(i));
    Buffer saved(DType::f32, B * chunks * C), scratch(DType::f32, kc::rglru_scratch_elements(B, T, C));
    const float* l = static_cast<const float*>(lambda.data());
    kc::rglru_scan_forward(dt, p.data(), l, reset.data(), bidir, B, T, C, y.data(), static_cast<float*>(saved.data()),
                           static_cast<float*>(scratch.data()), nullptr);
    kc::rglru_scan_backward(dt, p.data(), l, reset.data(), bidir, B, T, C, static_cast<const float*>(saved.data()),
                            g.data(), dproj.data(), static_cast<float*>(dlambda.data()),
                            static_cast<float*>(scratch.data()), nullptr);
  };
  Buffer y(dt, B * T * C), dproj(dt, B * T * 3 * C), dl(DType::f32, C);
  run(0, y, dproj, dl);
  Buffer y1(dt, B * T * C, 1), dproj1(dt, B * T * 3 * C, 1), dl1(DType::f32, C);
  run(1, y1, dproj1, dl1);
  check(y.same_bits(y1) && dproj.same_bits(dproj1) && dl.same_bits(dl1),
        name + ": aligned (vector) and offset (scalar) runs agree bit for bit");
  // Direct f64 evaluation (kernels/rglru.h), with its adjoint.
  const auto P = proj.values(), G = dy.values(), Lv = lambda.values();
  std::vector<double> yr(B * T * C), dr(B * T * 3 * C), dlr = dl0.values();
  auto blocked = [&](std::int64_t b, bool rev, std::int64_t t) {
    if (!rev) return t == 0 || (reset[b * T + t] & 1) != 0;
    return t == T - 1 || (reset[b * T + t + 1] & 1) != 0 || (reset[b * T + t] & 2) != 0;
  };
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t c = 0; c < C; ++c) {
      const bool rev = bidir && c >= C / 2;
      const double sp = std::log1p(std::exp(-Lv[c])), sn = sig(-Lv[c]);
      std::vector<double> st(T), a(T), sc(T);
      double h = 0;
      for (std::int64_t s = 0; s < T; ++s) {
        const std::int64_t t = rev ? T - 1 - s : s;
        const double* p = &P[(b * T + t) * 3 * C];
        const bool bl = blocked(b, rev, t);
        const double la = bl ? 0 : -8 * sig(p[C + c]) * sp;
        a[s] = bl ? 0 : std::exp(la);
        sc[s] = bl ? 1 : std::sqrt(-std::expm1(2 * la));
        h = a[s] * h + sc[s] * sig(p[2 * C + c]) * p[c];
        st[s] = h;
        yr[(b * T + t) * C + c] = h;
      }
      double carry = 0;
      for (std::int64_t s = T - 1; s >= 0; --s) {
        const std::int64_t t = rev ? T - 1 - s : s;
        const double* p = &P[(b * T + t) * 3 * C];
        double* d = &dr[(b * T + t) * 3 * C];
        const double g = G[(b * T + t) * C + c] + carry, hin = s > 0 ? st[s - 1] : 0;
        const double xv = p[c], r = sig(p[C + c]), i = sig(p[2 * C + c]);
        d[c] = g * sc[s] * i;
        d[2 * C + c] = g * sc[s] * xv * i * (1 - i);
        const double dla = blocked(b, rev, t) ? 0 : g * (a[s] * hin - a[s] * a[s] / sc[s] * i * xv);
        d[C + c] = dla * (-8 * sp) * r * (1 - r);
        dlr[c] += dla * 8 * r * sn;
        carry = a[s] * g;
      }
    }
  const double ey = relative(y.values(), yr), ed = relative(dproj.values(), dr), el = relative(dl.values(), dlr);
  check(ey < bound(dt) && ed < bound(dt) && el < 1e-4,
        name + ": y rel " + num(ey) + ", dproj rel " + num(ed) + ", dlambda rel " + num(el));
}

}  // namespace

// Arguments: --big adds the scan with B·chunks > 65535; section names (scan, elementwise, embedding,
// rmsnorm, sum_rows, conv1d, rglru) select sections (default: all).
int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  bool big = false;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--big") big = true;
    else only.push_back(a);
  }
  auto wanted = [&](const char* section) {
    return only.empty() || std::find(only.begin(), only.end(), section) != only.end();
  };
  emu::threaded = false;  // the embedding and most scan kernels have no barriers
  if (wanted("scan"))
  for (DType dt : {DType::f32, DType::bf16})
    for (bool bidir : {false, true}) {
      for (kc::ScanKernel kernel : kc::scan_kernels) {
        kc::set_scan_kernel(kernel);
        // the split kernels' warps meet at barriers; the others run thread after thread
        emu::threaded = kernel == kc::ScanKernel::one_pass_split4 || kernel == kc::ScanKernel::one_pass_split8;
        scan_case(dt, bidir, 3, 37, 16);   // vectors (bf16: 8 channels, f32: 4)
        scan_case(dt, bidir, 2, 33, 12);   // f32 vectors, bf16 scalar (12 % 8)
        scan_case(dt, bidir, 2, 16, 136);  // 136/VEC groups > 64 threads: two blocks in x (3+ one-pass warps)
        scan_case(dt, bidir, 1, 5, 4);     // one partial chunk
      }
    }
  kc::set_scan_kernel(kc::ScanKernel::three_pass);
  emu::threaded = false;
  if (big && wanted("scan")) scan_case(DType::f32, false, 3, 16 * 21846, 8);  // B·chunks = 65538 > 65535
  if (wanted("embedding"))
  for (DType gt : {DType::f32, DType::bf16})
    for (DType wt : {DType::f32, DType::bf16}) {
      embedding_case(gt, wt, 301, 50, 37, true);
      embedding_case(gt, wt, 500, 40, 64, true);
      embedding_case(gt, wt, 257, 1, 16, true);
      embedding_case(gt, wt, 100, 1000, 24, false);
    }
  emu::threaded = true;  // block_sum: barriers and shuffles
  if (wanted("rmsnorm")) {
  for (DType dt : {DType::f32, DType::bf16})
    for (DType st : {DType::f32, DType::bf16}) {
      if (dt == DType::f32 && st == DType::bf16) continue;
      rmsnorm_case(dt, st, 33, 3, false);
      rmsnorm_case(dt, st, 33, 100, false);
      rmsnorm_case(dt, st, 9, 2048, false);
      rmsnorm_case(dt, st, 21, 77, true);
      rmsnorm_case(dt, st, 13, 96, true);
      rmsnorm_case(dt, st, 5, 4104, false);  // > 256 groups of 8 or 4: threads stride
      rmsnorm_case(dt, st, 3000, 16, false);  // > 256 backward blocks
    }
  rmsnorm_case(DType::f32, DType::f32, 3, 12800, false);  // > 48 KiB shared: opt-in
  }
  if (wanted("cross_entropy")) {
    for (DType lt : {DType::f32, DType::bf16})
      for (DType st : {DType::f32, DType::bf16}) {
        if (lt == DType::f32 && st == DType::bf16) continue;
        cross_entropy_case(lt, st, 5, 1001);         // bf16 and f32: V not a multiple of the vector
        cross_entropy_case(lt, st, 4, 4096);         // one vector per thread
        cross_entropy_case(lt, st, 4, 32000);        // the real vocabulary: 8 (bf16) or 16 (f32) vectors
        cross_entropy_case(lt, st, 4, 4096, 1);      // misaligned: scalar registers
        cross_entropy_case(lt, st, 4, 40000);        // past the registers: the two-pass kernel
      }
  }
  if (wanted("reduce")) {
    reduce_case(DType::f32, 200003);
    reduce_case(DType::bf16, 1001);
  }
  if (wanted("adamw")) {
    adamw_case(1000);
    adamw_case(256 * 3 + 5);  // a partial last block, a tail after the last group of 4
    adamw_case(3);            // the tail alone
  }
  if (wanted("elementwise"))
    for (DType t : {DType::f32, DType::bf16}) {
      elementwise_case(t, 4096, 4096);  // vectors
      elementwise_case(t, 4096, 64);    // vectors, b broadcast along rows
      elementwise_case(t, 90, 30);      // n % 8 ≠ 0: scalar even when aligned
      elementwise_case(t, 1, 1);
    }
  if (wanted("sum_rows")) {
    sum_rows_case(DType::f32, 70, 300);
    sum_rows_case(DType::bf16, 3, 1000);
  }
  emu::threaded = false;  // no barriers in the Hawk kernels
  if (wanted("conv1d"))
    for (DType t : {DType::f32, DType::bf16}) {
      conv1d_case(t, false, 2, 37, 13, 4);
      conv1d_case(t, true, 3, 50, 22, 4);
      conv1d_case(t, true, 2, 19, 6, 3);
      conv1d_case(t, false, 1, 33, 9, 1);
      conv1d_case(t, true, 2, 300, 24, 4);  // several weight-gradient partials
    }
  if (wanted("rglru"))
    for (DType t : {DType::f32, DType::bf16})
      for (bool bidir : {false, true}) {
        rglru_case(t, bidir, 2, 37, 16);   // vectors (f32: 4 channels, bf16: 8)
        rglru_case(t, bidir, 2, 33, 14);   // scalar (14 / 2 = 7)
        rglru_case(t, bidir, 3, 48, 136);  // T a multiple of 16; two blocks of channels
        rglru_case(t, bidir, 1, 5, 6);     // one partial chunk
      }
  std::printf("%ld launches, %d failure(s)\n", emu::launches.load(), failures);
  return failures == 0 ? 0 : 1;
}
