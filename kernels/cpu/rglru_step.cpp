// The reference of kernels/rglru_step.h, with the formulas of the full scan's reference
// (kernels/cpu/rglru.cpp), so a decoded token matches the full pass to rounding.
#include "kernels/cpu/rglru_step.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/channel_runs.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {

template <class F>
F softplus(F z) {
  return std::max(z, F(0)) + std::log1p(std::exp(-std::abs(z)));
}

// h ← a·h + sqrt(1 − a²)·σ(i)·x with a = σ(Λ)^(c·σ(r)), as in the full scan.
template <class F>
F rglru_update(F h, F x, F r_pre, F i_pre, F lambda) {
  const F log_a = -F(rglru_c) * sigmoid(r_pre) * softplus(-lambda);
  return std::exp(log_a) * h + std::sqrt(-std::expm1(F(2) * log_a)) * sigmoid(i_pre) * x;
}

}  // namespace

void rglru_final_state(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                       ScanDirection direction, Tensor& state) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2);
  const std::int64_t forward = forward_channels(direction, C);
  dispatch_floating(x, "rglru_final_state", [&](auto zero) {
    using F = decltype(zero);
    const F* pl = lambda.data<F>();
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int32_t* row_reset = batch_row<std::int32_t>(reset, b);
      F* h = batch_row<F>(state, b);
      std::fill(h, h + C, F(0));
      for (std::int64_t t = 0; t < T; ++t) {
        const F* px = batch_row<F>(x, b) + t * C;
        const F* pg = batch_row<F>(gates, b) + t * 2 * C;
        // A segment start lets no state in: a = 0 there, and sqrt(1 − 0) = 1.
        const bool start = t == 0 || (row_reset[t] & reset_bits::segment_start) != 0;
        for (std::int64_t c = 0; c < forward; ++c)
          h[c] = start ? sigmoid(pg[C + c]) * px[c] : rglru_update(h[c], px[c], pg[c], pg[C + c], pl[c]);
      }
    }
  });
}

void rglru_step(const Tensor& x, const Tensor& gates, const Tensor& lambda, Tensor& state, ScanDirection direction,
                Tensor& y) {
  const std::int64_t B = x.dim(0), C = x.dim(1);
  const std::int64_t forward = forward_channels(direction, C);
  dispatch_floating(x, "rglru_step", [&](auto zero) {
    using F = decltype(zero);
    const F* pl = lambda.data<F>();
    for (std::int64_t b = 0; b < B; ++b) {
      const F* px = batch_row<F>(x, b);
      const F* pg = batch_row<F>(gates, b);
      F* h = batch_row<F>(state, b);
      F* out = batch_row<F>(y, b);
      for (std::int64_t c = 0; c < C; ++c) {
        if (c < forward) {
          h[c] = rglru_update(h[c], px[c], pg[c], pg[C + c], pl[c]);
          out[c] = h[c];
        } else {
          out[c] = sigmoid(pg[C + c]) * px[c];  // reverse half: a = 0 on a suffix token
        }
      }
    }
  });
}

void conv1d_step(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& window,
                 ScanDirection direction, Tensor& y) {
  const std::int64_t B = x.dim(0), C = x.dim(1), K = weight.dim(0);
  const std::int64_t forward = forward_channels(direction, C);
  dispatch_floating(x, "conv1d_step", [&](auto zero) {
    using F = decltype(zero);
    const F* px = x.data<F>();
    const F* pw = weight.data<F>();
    const F* pb = bias.data<F>();
    F* pwin = window.data<F>();
    F* py = y.data<F>();
    for (std::int64_t b = 0; b < B; ++b) {
      F* win = pwin + b * (K - 1) * C;
      for (std::int64_t c = 0; c < C; ++c) {
        const F xc = px[b * C + c];
        // The terms in the order of the full convolution's reference: bias, then k = 0, 1, ...
        F acc = pb[c] + pw[c] * xc;
        if (c < forward)
          for (std::int64_t k = 1; k < K; ++k) acc += pw[k * C + c] * win[(K - 1 - k) * C + c];
        py[b * C + c] = acc;
        for (std::int64_t j = 0; j + 1 < K - 1; ++j) win[j * C + c] = win[(j + 1) * C + c];
        if (K > 1) win[(K - 2) * C + c] = xc;
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
