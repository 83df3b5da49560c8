// The layer kernels on the CPU (see emulation_checks.h): kernels/cuda/{rmsnorm,embedding,
// elementwise,cross_entropy,reduce,adamw}.cu against f64 references, their 16-byte-vector and
// scalar paths bit for bit.
#include "kernels/adamw_status.h"
#include "kernels/cuda/adamw.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/embedding.h"
#include "kernels/cuda/gated_gelu.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/rmsnorm.h"
#include "emulation_checks.h"

using namespace birdie;
namespace kc = birdie::kernels::cuda;

namespace emulation_checks {

// ------------------------------------------------------------------ RMSNorm
// The residual cases also add dx into the gradient already there (accumulate_dx), as the
// pre-norm block's backward does with the gradient arriving along the residual.
void rmsnorm_case(DType dt, DType stats, std::int64_t rows, std::int64_t D, bool residual) {
  const std::string name = std::string("rmsnorm ") + (dt == DType::bf16 ? "bf16" : "f32") +
                           (stats == DType::bf16 ? " bf16-stats" : "") + (residual ? " residual" : "") +
                           " rows=" + std::to_string(rows) + " D=" + std::to_string(D);
  Buffer x(dt, rows * D), r(dt, rows * D), w(dt, D), dy(dt, rows * D), dw0(DType::f32, D),
      dx0(dt, rows * D);
  fill(dx0, -1, 1);
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
    if (residual)
      for (std::int64_t i = 0; i < rows * D; ++i) o.dx.set(i, dx0.get(i));
    kc::rmsnorm_forward(dt, stats, xo.data(), residual ? ro.data() : nullptr, residual ? o.h.data() : nullptr,
                        wo.data(), eps, rows, D, o.y.data(), o.inv.data(), nullptr);
    const void* normalized = residual ? o.h.data() : xo.data();
    kc::rmsnorm_backward(dt, stats, DType::f32, normalized, wo.data(), o.inv.data(), dyo.data(), rows, D,
                         o.dx.data(), o.dw.data(), residual, nullptr);
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
      dxr[q * D + j] = inv * (dy.get(q * D + j) * w.get(j) - n * dot / D) + (residual ? dx0.get(q * D + j) : 0.0);
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

// ------------------------------------------------------------------ gated GeLU
// out = gelu(a) ⊙ b and its backward, rows × width, a and b two buffers (stride = width) or
// the two halves of one (stride = 2·width); aligned buffers against buffers one element
// off (the scalar path) bit for bit, and against f64.
void gated_gelu_case(DType t, std::int64_t rows, std::int64_t width, bool halves) {
  const std::string name = std::string("gated_gelu ") + (t == DType::bf16 ? "bf16" : "f32") +
                           (halves ? " halves" : " pair") + " rows=" + std::to_string(rows) +
                           " width=" + std::to_string(width);
  const std::int64_t stride = halves ? 2 * width : width, n = rows * width;
  Buffer a0(t, rows * stride), b0(t, rows * stride), dy0(t, n);
  fill(a0, -3, 3), fill(b0, -3, 3), fill(dy0, -1, 1);
  struct Out {
    Buffer out, da, db;
  };
  auto run = [&](std::size_t off) {
    // Halves: one buffer [rows, 2·width] whose second half holds b; its gradient likewise.
    Buffer x(t, rows * stride, off), y(t, halves ? 0 : rows * stride, off), dy(t, n, off);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t j = 0; j < width; ++j) {
        x.set(r * stride + j, a0.get(r * stride + j));
        (halves ? x : y).set(r * stride + (halves ? width : 0) + j, b0.get(r * stride + j));
      }
    for (std::int64_t i = 0; i < n; ++i) dy.set(i, dy0.get(i));
    Out o{Buffer(t, n, off), Buffer(t, rows * stride, off), Buffer(t, halves ? 0 : rows * stride, off)};
    const std::size_t half = static_cast<std::size_t>(width) * (t == DType::bf16 ? 2 : 4);
    const void* b = halves ? static_cast<const char*>(x.data()) + half : y.data();
    void* db = halves ? static_cast<char*>(o.da.data()) + half : o.db.data();
    kc::gated_gelu_forward(t, x.data(), b, rows, width, stride, o.out.data(), nullptr);
    kc::gated_gelu_backward(t, x.data(), b, dy.data(), rows, width, stride, o.da.data(), db, nullptr);
    return o;
  };
  const Out v = run(0), s = run(1);
  std::vector<double> out_ref(n), da_ref(n), db_ref(n), out_got(n), da_got(n), db_got(n);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < width; ++j) {
      const std::int64_t i = r * width + j, at = r * stride + j;
      const double x = a0.get(at), y = b0.get(at), g = dy0.get(i);
      out_ref[i] = gelu(x) * y, da_ref[i] = g * y * gelud(x), db_ref[i] = g * gelu(x);
      out_got[i] = v.out.get(i), da_got[i] = v.da.get(at);
      db_got[i] = halves ? v.da.get(at + width) : v.db.get(at);
    }
  const double eo = relative(out_got, out_ref), ea = relative(da_got, da_ref), eb = relative(db_got, db_ref);
  check(v.out.same_bits(s.out) && v.da.same_bits(s.da) && v.db.same_bits(s.db) && eo < bound(t) &&
            ea < bound(t) && eb < bound(t),
        name + ": vector and scalar paths agree; out rel " + num(eo) + ", da " + num(ea) + ", db " + num(eb));
}

// ------------------------------------------------------------------ cross-entropy
// rows × V logits (f32 or bf16, `offset` elements past alignment), targets with an
// ignored row, a row whose only finite logit is the target, −inf logits elsewhere, and an
// invalid target (NaN row); against f64.
void cross_entropy_case(DType lt, DType st, std::int64_t rows, std::int64_t V, std::size_t offset) {
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

}  // namespace emulation_checks
