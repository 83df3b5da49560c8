// The recurrence kernels on the CPU (see emulation_checks.h): kernels/cuda/scan.cu and
// Hawk's conv1d.cu and rglru.cu against f64 references.
#include "kernels/cuda/conv1d.h"
#include "kernels/cuda/rglru.h"
#include "kernels/cuda/rglru_step.h"
#include "kernels/cuda/scan.h"
#include "emulation_checks.h"

using namespace birdie;
namespace kc = birdie::kernels::cuda;

namespace emulation_checks {

// ------------------------------------------------------------------ scan
void scan_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t N, bool reference) {
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
  // The one-pass kernels' results must not depend on which inclusive states a look-back
  // finds published: again with four tiles of five keeping theirs back (walks of up to four
  // tiles: more than one round of a look-back's window of two, and a whole one of four).
  Buffer y2(dt, B * T * N), dproj2(dt, B * T * 4 * N);
  emu::withhold_every = 5;
  run(0, y2, dproj2);
  emu::withhold_every = 0;
  check(y.same_bits(y2) && dproj.same_bits(dproj2), name + ": the same bits when look-backs walk through aggregates");
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

void rglru_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, bool gated) {
  const std::string name = std::string("rglru (") + kc::rglru_kernel_name(kc::rglru_kernel()) + ") " +
                           (dt == DType::bf16 ? "bf16" : "f32") + (bidir ? " bidir" : " causal") +
                           (gated ? " output gate" : "") + " B=" + std::to_string(B) + " T=" + std::to_string(T) +
                           " C=" + std::to_string(C);
  const std::int64_t chunks = kc::rglru_chunk_count(T);
  // The two inputs of kernels/rglru.h: x [B, T, C], gates [B, T, 2C] = [r | i].
  // With `gated`, the output gate o [B, T, C] too: y = GeLU(o) ⊙ h.
  Buffer x(dt, B * T * C), gates(dt, B * T * 2 * C), dy(dt, B * T * C), lambda(DType::f32, C), dl0(DType::f32, C);
  Buffer og(dt, B * T * C);
  fill(x, -2, 2), fill(gates, -2, 2), fill(dy, -1, 1), fill(lambda, -2, 5), fill(dl0, -1, 1), fill(og, -3, 3);
  for (std::int64_t c = 1; c < C; c += 3) lambda.set(c, 9.0);  // a near 0.999
  const auto reset = hawk_reset(B, T);
  struct Out {
    Buffer y, dx, dgates, dout_gate, dlambda;
    bool same_bits(Out& o) {
      return y.same_bits(o.y) && dx.same_bits(o.dx) && dgates.same_bits(o.dgates) &&
             dout_gate.same_bits(o.dout_gate) && dlambda.same_bits(o.dlambda);
    }
  };
  auto run = [&](std::size_t off) {
    Out o{Buffer(dt, B * T * C, off), Buffer(dt, B * T * C, off), Buffer(dt, B * T * 2 * C, off),
          Buffer(dt, B * T * C, off), Buffer(DType::f32, C)};
    Buffer xo(dt, x.n, off), go(dt, gates.n, off), oo(dt, og.n, off), g(dt, dy.n, off);
    for (std::int64_t i = 0; i < x.n; ++i) xo.set(i, x.get(i));
    for (std::int64_t i = 0; i < gates.n; ++i) go.set(i, gates.get(i));
    for (std::int64_t i = 0; i < og.n; ++i) oo.set(i, og.get(i));
    for (std::int64_t i = 0; i < dy.n; ++i) g.set(i, dy.get(i));
    for (std::int64_t i = 0; i < C; ++i) o.dlambda.set(i, dl0.get(i));
    Buffer saved(DType::f32, B * chunks * C), scratch(DType::f32, kc::rglru_scratch_elements(B, T, C));
    const float* l = static_cast<const float*>(lambda.data());
    const void* out_gate = gated ? oo.data() : nullptr;
    kc::rglru_scan_forward(dt, xo.data(), go.data(), out_gate, l, reset.data(), bidir, B, T, C, o.y.data(),
                           static_cast<float*>(saved.data()), static_cast<float*>(scratch.data()), nullptr);
    kc::rglru_scan_backward(dt, xo.data(), go.data(), out_gate, l, reset.data(), bidir, B, T, C,
                            static_cast<const float*>(saved.data()), g.data(), o.dx.data(), o.dgates.data(),
                            gated ? o.dout_gate.data() : nullptr, static_cast<float*>(o.dlambda.data()),
                            static_cast<float*>(scratch.data()), nullptr);
    return o;
  };
  Out out = run(0), offset = run(1);
  check(out.same_bits(offset), name + ": aligned (vector) and offset (scalar) runs agree bit for bit");
  emu::withhold_every = 5;  // look-backs walk through aggregates (scan_case says why)
  Out withheld = run(0);
  emu::withhold_every = 0;
  check(out.same_bits(withheld), name + ": the same bits when look-backs walk through aggregates");
  // Direct f64 evaluation (kernels/rglru.h), with its adjoint.
  const auto X = x.values(), Gt = gates.values(), G = dy.values(), Lv = lambda.values(), O = og.values();
  std::vector<double> yr(B * T * C), dxr(B * T * C), dgr(B * T * 2 * C), dor(B * T * C), dlr = dl0.values();
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
        const std::int64_t t = rev ? T - 1 - s : s, row = b * T + t;
        const double* gp = &Gt[row * 2 * C];
        const bool bl = blocked(b, rev, t);
        const double la = bl ? 0 : -8 * sig(gp[c]) * sp;
        a[s] = bl ? 0 : std::exp(la);
        sc[s] = bl ? 1 : std::sqrt(-std::expm1(2 * la));
        h = a[s] * h + sc[s] * sig(gp[C + c]) * X[row * C + c];
        st[s] = h;
        yr[row * C + c] = gated ? gelu(O[row * C + c]) * h : h;
      }
      double carry = 0;
      for (std::int64_t s = T - 1; s >= 0; --s) {
        const std::int64_t t = rev ? T - 1 - s : s, row = b * T + t;
        const double* gp = &Gt[row * 2 * C];
        double* dg = &dgr[row * 2 * C];
        const double dh = gated ? G[row * C + c] * gelu(O[row * C + c]) : G[row * C + c];
        if (gated) dor[row * C + c] = G[row * C + c] * gelud(O[row * C + c]) * st[s];
        const double g = dh + carry, hin = s > 0 ? st[s - 1] : 0;
        const double xv = X[row * C + c], r = sig(gp[c]), i = sig(gp[C + c]);
        dxr[row * C + c] = g * sc[s] * i;
        dg[C + c] = g * sc[s] * xv * i * (1 - i);
        const double dla = blocked(b, rev, t) ? 0 : g * (a[s] * hin - a[s] * a[s] / sc[s] * i * xv);
        dg[c] = dla * (-8 * sp) * r * (1 - r);
        dlr[c] += dla * 8 * r * sn;
        carry = a[s] * g;
      }
    }
  const double ey = relative(out.y.values(), yr), ex = relative(out.dx.values(), dxr);
  const double eg = relative(out.dgates.values(), dgr), el = relative(out.dlambda.values(), dlr);
  const double eo = gated ? relative(out.dout_gate.values(), dor) : 0.0;
  check(ey < bound(dt) && ex < bound(dt) && eg < bound(dt) && eo < bound(dt) && el < 1e-4,
        name + ": y rel " + num(ey) + ", dx rel " + num(ex) + ", dgates rel " + num(eg) +
            (gated ? ", d output gate rel " + num(eo) : std::string()) + ", dlambda rel " + num(el));
}

// The one-token kernels of kernels/cuda/rglru_step.cu (kernels/rglru_step.h): the RG-LRU's
// state after a prompt, one step from it, and the convolution's step, against f64.
void hawk_step_case(DType dt, bool bidir, std::int64_t B, std::int64_t T, std::int64_t C, std::int64_t K) {
  const std::string name = std::string("hawk step ") + (dt == DType::bf16 ? "bf16" : "f32") +
                           (bidir ? " bidir" : " causal") + " B=" + std::to_string(B) + " T=" + std::to_string(T) +
                           " C=" + std::to_string(C) + " K=" + std::to_string(K);
  Buffer x(dt, B * T * C), gates(dt, B * T * 2 * C), lambda(DType::f32, C), sx(dt, B * C), sgates(dt, B * 2 * C);
  Buffer cx(dt, B * C), w(dt, K * C), bias(dt, C), window(dt, B * (K - 1) * C);
  fill(x, -2, 2), fill(gates, -2, 2), fill(lambda, 0, 5), fill(sx, -2, 2), fill(sgates, -2, 2);
  fill(cx, -1, 1), fill(w, -1, 1), fill(bias, -1, 1), fill(window, -1, 1);
  const auto reset = hawk_reset(B, T);
  const auto X = x.values(), Gt = gates.values(), Lv = lambda.values(), SX = sx.values(), SG = sgates.values();
  const auto CX = cx.values(), W = w.values(), Bv = bias.values(), Win = window.values();
  Buffer state(DType::f32, B * C), y(dt, B * C), c(dt, B * C);
  float* st = static_cast<float*>(state.data());
  const float* l = static_cast<const float*>(lambda.data());
  kc::rglru_final_state(dt, x.data(), gates.data(), l, reset.data(), bidir, B, T, C, st, nullptr);
  const std::vector<double> state_after_prompt = state.values();
  kc::rglru_step(dt, sx.data(), sgates.data(), l, bidir, B, C, st, y.data(), nullptr);
  kc::conv1d_step(dt, cx.data(), w.data(), bias.data(), bidir, B, C, K, window.data(), c.data(), nullptr);

  const std::int64_t forward = bidir ? C / 2 : C;
  std::vector<double> hr(B * C, 0.0), yr(B * C), cr(B * C), winr(Win.size());
  auto update = [&](double h, double xv, double r, double i, double lam) {
    const double log_a = -8 * sig(r) * std::log1p(std::exp(-lam));
    return std::exp(log_a) * h + std::sqrt(-std::expm1(2 * log_a)) * sig(i) * xv;
  };
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t ch = 0; ch < forward; ++ch)
      for (std::int64_t t = 0; t < T; ++t) {
        const std::int64_t row = b * T + t;
        const double xv = X[row * C + ch], r = Gt[row * 2 * C + ch], i = Gt[row * 2 * C + C + ch];
        const bool start = t == 0 || (reset[row] & 1) != 0;
        hr[b * C + ch] = start ? sig(i) * xv : update(hr[b * C + ch], xv, r, i, Lv[ch]);
      }
  const double e_state = relative(state_after_prompt, hr);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t ch = 0; ch < C; ++ch) {
      const std::int64_t e = b * C + ch;
      const double xv = SX[e], r = SG[b * 2 * C + ch], i = SG[b * 2 * C + C + ch];
      if (ch < forward) hr[e] = update(hr[e], xv, r, i, Lv[ch]);
      yr[e] = ch < forward ? hr[e] : sig(i) * xv;  // reverse half: a = 0 on a suffix token
      double acc = Bv[ch] + W[ch] * CX[e];
      for (std::int64_t k = 1; ch < forward && k < K; ++k) acc += W[k * C + ch] * Win[(b * (K - 1) + K - 1 - k) * C + ch];
      cr[e] = acc;
      for (std::int64_t j = 0; j + 1 < K - 1; ++j) winr[(b * (K - 1) + j) * C + ch] = Win[(b * (K - 1) + j + 1) * C + ch];
      if (K > 1) winr[(b * (K - 1) + K - 2) * C + ch] = CX[e];
    }
  const double e_step_state = relative(state.values(), hr), ey = relative(y.values(), yr), ec = relative(c.values(), cr);
  const bool window_exact = window.values() == winr;
  check(e_state < 2e-5 && e_step_state < 2e-5 && ey < bound(dt) && ec < bound(dt) && window_exact,
        name + ": prompt state rel " + num(e_state) + ", stepped state rel " + num(e_step_state) + ", y rel " +
            num(ey) + ", conv rel " + num(ec) + (window_exact ? ", window shifted exactly" : ", window WRONG"));
}

}  // namespace emulation_checks
