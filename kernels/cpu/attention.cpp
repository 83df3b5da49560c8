// The reference attention: plain loops over (row, head, query), sums in double whatever
// the dtype, one (row, head) pair per OpenMP iteration (each writes only its own head's
// slices, so no two iterations touch the same element).
#include "kernels/cpu/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/segments.h"

namespace birdie::kernels::cpu {

namespace {

// The mask of kernels/attention.h for a row, given its segments.
struct RowMask {
  const std::int32_t* reset;
  std::vector<std::int64_t> start, end;
  bool prefix;

  RowMask(const std::int32_t* r, std::int64_t T, AttentionMask mask)
      : reset(r), start(segment_starts(r, T)), end(segment_ends(r, T)),
        prefix(mask == AttentionMask::prefix) {}

  bool prompt(std::int64_t t) const { return (reset[t] & reset_bits::causal) == 0; }
  // Keys outside [start[i], end[i]) are in other segments; inside, this decides.
  bool sees(std::int64_t i, std::int64_t j) const {
    return j <= i || (prefix && prompt(i) && prompt(j));
  }
};

struct Layout {
  std::int64_t B, T, H, Dh;
  explicit Layout(const Tensor& q) : B(q.dim(0)), T(q.dim(1)), H(q.dim(2)), Dh(q.dim(3)) {}
  // Element (b, t, h, 0) of a [B, T, H, Dh] tensor, and (b, h, t) of a [B, H, T] one.
  std::int64_t token(std::int64_t b, std::int64_t t, std::int64_t h) const {
    return ((b * T + t) * H + h) * Dh;
  }
  std::int64_t row(std::int64_t b, std::int64_t h, std::int64_t t) const { return (b * H + h) * T + t; }
};

template <class T>
double dot(const T* a, const T* b, std::int64_t n) {
  double s = 0;
  for (std::int64_t d = 0; d < n; ++d) s += double(a[d]) * b[d];
  return s;
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                       AttentionMask mask, Tensor& out, Tensor& lse) {
  dispatch_floating(q, "attention_forward", [&](auto zero) {
    using T = decltype(zero);
    const Layout L(q);
    const double scale = 1.0 / std::sqrt(double(L.Dh));
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    const std::int32_t* pr = reset.data<std::int32_t>();
    T* po = out.data<T>();
    T* pl = lse.data<T>();
#pragma omp parallel for collapse(2) if (q.numel() * L.T > parallel_threshold)
    for (std::int64_t b = 0; b < L.B; ++b)
      for (std::int64_t h = 0; h < L.H; ++h) {
        const RowMask m(pr + b * L.T, L.T, mask);
        std::vector<double> score(L.T), acc(L.Dh);
        for (std::int64_t i = 0; i < L.T; ++i) {
          const T* qi = pq + L.token(b, i, h);
          double max_score = -std::numeric_limits<double>::infinity();
          for (std::int64_t j = m.start[i]; j < m.end[i]; ++j)
            if (m.sees(i, j)) {
              score[j] = dot(qi, pk + L.token(b, j, h), L.Dh) * scale;
              max_score = std::max(max_score, score[j]);
            }
          double total = 0;
          std::fill(acc.begin(), acc.end(), 0.0);
          for (std::int64_t j = m.start[i]; j < m.end[i]; ++j)
            if (m.sees(i, j)) {
              const double p = std::exp(score[j] - max_score);
              total += p;
              const T* vj = pv + L.token(b, j, h);
              for (std::int64_t d = 0; d < L.Dh; ++d) acc[d] += p * vj[d];
            }
          T* oi = po + L.token(b, i, h);
          for (std::int64_t d = 0; d < L.Dh; ++d) oi[d] = static_cast<T>(acc[d] / total);
          pl[L.row(b, h, i)] = static_cast<T>(max_score + std::log(total));
        }
      }
  });
}

// With P = exp(S − lse) (the forward's probabilities, recomputed), dP = dout · vᵀ and
// D_i = Σ_d dout_i ⊙ out_i (= Σ_j P_ij dP_ij): dS = P ⊙ (dP − D),
// dq = scale · dS k, dk = scale · dSᵀ q, dv = Pᵀ dout.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
  dispatch_floating(q, "attention_backward", [&](auto zero) {
    using T = decltype(zero);
    const Layout L(q);
    const double scale = 1.0 / std::sqrt(double(L.Dh));
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    const T *po = out.data<T>(), *pl = lse.data<T>(), *pg = dout.data<T>();
    const std::int32_t* pr = reset.data<std::int32_t>();
    T *pdq = dq.data<T>(), *pdk = dk.data<T>(), *pdv = dv.data<T>();
#pragma omp parallel for collapse(2) if (q.numel() * L.T > parallel_threshold)
    for (std::int64_t b = 0; b < L.B; ++b)
      for (std::int64_t h = 0; h < L.H; ++h) {
        const RowMask m(pr + b * L.T, L.T, mask);
        // dk and dv of this head gather over queries: accumulated here, stored at the end.
        std::vector<double> dk_acc(L.T * L.Dh, 0.0), dv_acc(L.T * L.Dh, 0.0), dq_acc(L.Dh);
        for (std::int64_t i = 0; i < L.T; ++i) {
          const T* qi = pq + L.token(b, i, h);
          const T* gi = pg + L.token(b, i, h);
          const double lse_i = pl[L.row(b, h, i)];
          const double D_i = dot(gi, po + L.token(b, i, h), L.Dh);
          std::fill(dq_acc.begin(), dq_acc.end(), 0.0);
          for (std::int64_t j = m.start[i]; j < m.end[i]; ++j) {
            if (!m.sees(i, j)) continue;
            const T* kj = pk + L.token(b, j, h);
            const T* vj = pv + L.token(b, j, h);
            const double p = std::exp(dot(qi, kj, L.Dh) * scale - lse_i);
            const double ds = p * (dot(gi, vj, L.Dh) - D_i);
            for (std::int64_t d = 0; d < L.Dh; ++d) {
              dq_acc[d] += ds * kj[d];
              dk_acc[j * L.Dh + d] += ds * qi[d];
              dv_acc[j * L.Dh + d] += p * gi[d];
            }
          }
          T* dqi = pdq + L.token(b, i, h);
          for (std::int64_t d = 0; d < L.Dh; ++d) dqi[d] = static_cast<T>(dq_acc[d] * scale);
        }
        for (std::int64_t j = 0; j < L.T; ++j)
          for (std::int64_t d = 0; d < L.Dh; ++d) {
            pdk[L.token(b, j, h) + d] = static_cast<T>(dk_acc[j * L.Dh + d] * scale);
            pdv[L.token(b, j, h) + d] = static_cast<T>(dv_acc[j * L.Dh + d]);
          }
      }
  });
}

}  // namespace birdie::kernels::cpu
