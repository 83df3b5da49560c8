// The plain reference of kernels/rglru.h, shaped like the gated scan's (kernels/cpu/scan.cpp)
// and cut into channel runs (kernels/cpu/channel_runs.h): the backward pass gives each thread
// whole runs over every batch row, so dlambda is summed without races and in a fixed order.
#include "kernels/cpu/rglru.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/channel_runs.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"
#include "kernels/rglru.h"

namespace birdie::kernels::cpu {

namespace {

// a_t is forced to 0 where no state may flow in (kernels/rglru.h).
bool blocked(const std::int32_t* reset, std::int64_t T, std::int64_t t, bool reverse) {
  if (!reverse) return t == 0 || (reset[t] & reset_bits::segment_start) != 0;
  const bool last_of_segment = t == T - 1 || (reset[t + 1] & reset_bits::segment_start) != 0;
  return last_of_segment || (reset[t] & reset_bits::causal) != 0;
}

// softplus(z) = log(1 + e^z), without overflow for large z or lost digits for small.
template <class F>
F softplus(F z) {
  return std::max(z, F(0)) + std::log1p(std::exp(-std::abs(z)));
}

// The recurrence weight a, the drive scale sqrt(1 − a²) and log a of one element.
template <class F>
struct Decay {
  F log_a, a, scale;
  Decay(bool is_blocked, F r, F softplus_neg_lambda) {
    if (is_blocked) {
      log_a = F(0), a = F(0), scale = F(1);
      return;
    }
    log_a = -F(rglru_c) * r * softplus_neg_lambda;
    a = std::exp(log_a);
    scale = std::sqrt(-std::expm1(F(2) * log_a));
  }
  // d scale / d log a = −a² / scale; 0 where scale is exactly 0 (see kernels/rglru.h).
  F dscale_dlog_a() const { return scale > F(0) ? -a * a / scale : F(0); }
};

// Per-channel constants of Λ: softplus(−Λ) and d softplus(−Λ) / dΛ = −σ(−Λ).
template <class F>
void lambda_terms(const F* lambda, const ChannelRun& run, F* softplus_neg, F* sigmoid_neg) {
  for (std::int64_t c = run.begin; c < run.end; ++c) {
    softplus_neg[c - run.begin] = softplus(-lambda[c]);
    sigmoid_neg[c - run.begin] = sigmoid(-lambda[c]);
  }
}

// The output gate's factor GeLU(o) of element `at`; 1 without the gate.
template <class F>
F gate_of(const F* out_gate, std::int64_t at) {
  return out_gate ? gelu(out_gate[at]) : F(1);
}

template <class F>
void forward_run(const ChannelRun& run, std::int64_t T, std::int64_t C, const std::int32_t* reset, const F* x,
                 const F* gates, const F* out_gate, const F* lambda, F* states, F* y) {
  F h[channels_per_run] = {}, sp[channels_per_run], sn[channels_per_run];
  lambda_terms(lambda, run, sp, sn);
  for (std::int64_t s = 0; s < T; ++s) {
    const std::int64_t t = run.reverse ? T - 1 - s : s;
    const F* px = x + t * C;
    const F* pg = gates + t * 2 * C;
    const bool is_blocked = blocked(reset, T, t, run.reverse);
    for (std::int64_t c = run.begin; c < run.end; ++c) {
      const std::int64_t j = c - run.begin;
      const Decay<F> d(is_blocked, sigmoid(pg[c]), sp[j]);
      h[j] = d.a * h[j] + d.scale * sigmoid(pg[C + c]) * px[c];
      states[t * C + c] = h[j];
      y[t * C + c] = gate_of(out_gate, t * C + c) * h[j];
    }
  }
}

template <class F>
void backward_run(const ChannelRun& run, std::int64_t T, std::int64_t C, const std::int32_t* reset, const F* x,
                  const F* gates, const F* out_gate, const F* lambda, const F* states, const F* dy, F* dx,
                  F* dgates, F* dout_gate, F* dlambda_run) {
  F carry[channels_per_run] = {};  // gradient reaching h_t through the next step's a
  F sp[channels_per_run], sn[channels_per_run];
  lambda_terms(lambda, run, sp, sn);
  for (std::int64_t s = T - 1; s >= 0; --s) {
    const std::int64_t t = run.reverse ? T - 1 - s : s;
    const F* px = x + t * C;
    const F* pg = gates + t * 2 * C;
    F* dg = dgates + t * 2 * C;
    const F* h_in = s > 0 ? states + (run.reverse ? t + 1 : t - 1) * C : nullptr;
    const bool is_blocked = blocked(reset, T, t, run.reverse);
    for (std::int64_t c = run.begin; c < run.end; ++c) {
      const std::int64_t j = c - run.begin;
      const F xc = px[c], r = sigmoid(pg[c]), i = sigmoid(pg[C + c]);
      const Decay<F> decay(is_blocked, r, sp[j]);
      const std::int64_t at = t * C + c;
      if (out_gate) dout_gate[at] = dy[at] * gelu_derivative(out_gate[at]) * states[at];
      const F g = dy[at] * gate_of(out_gate, at) + carry[j];
      dx[t * C + c] = g * decay.scale * i;
      dg[C + c] = g * decay.scale * xc * i * (1 - i);
      if (is_blocked) {
        dg[c] = F(0);
      } else {
        // h_t = a·h_in + scale·i·x with a = exp(log a), scale a function of log a.
        const F h_prev = h_in ? h_in[c] : F(0);
        const F dlog_a = g * (decay.a * h_prev + decay.dscale_dlog_a() * i * xc);
        dg[c] = dlog_a * (-F(rglru_c) * sp[j]) * r * (1 - r);
        dlambda_run[j] += dlog_a * F(rglru_c) * r * sn[j];
      }
      carry[j] = decay.a * g;
    }
  }
}

// The rows of an optional tensor (nullptr when undefined).
template <class F>
F* optional_row(const Tensor& t, std::int64_t b) {
  return t.defined() ? batch_row<F>(t, b) : nullptr;
}

}  // namespace

Tensor rglru_scan_forward(const Tensor& x, const Tensor& gates, const Tensor& out_gate, const Tensor& lambda,
                          const Tensor& reset, ScanDirection direction, Tensor& y) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2);
  Tensor states = Tensor::empty({B, T, C}, x.dtype());
  dispatch_floating(x, "rglru_scan_forward", [&](auto zero) {
    using F = decltype(zero);
    for_each_row_and_run(B, C, direction, B * T * C, [&](std::int64_t b, const ChannelRun& run) {
      forward_run(run, T, C, batch_row<std::int32_t>(reset, b), batch_row<F>(x, b), batch_row<F>(gates, b),
                  static_cast<const F*>(optional_row<F>(out_gate, b)), lambda.data<F>(), batch_row<F>(states, b),
                  batch_row<F>(y, b));
    });
  });
  return states;
}

void rglru_scan_backward(const Tensor& x, const Tensor& gates, const Tensor& out_gate, const Tensor& lambda,
                         const Tensor& reset, ScanDirection direction, const Tensor& saved, const Tensor& dy, Tensor& dx,
                         Tensor& dgates, Tensor& dout_gate, Tensor& dlambda) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2);
  dispatch_floating(x, "rglru_scan_backward", [&](auto zero) {
    using F = decltype(zero);
    for_each_run(C, direction, B * T * C, [&](const ChannelRun& run) {
      F sum[channels_per_run] = {};
      for (std::int64_t b = 0; b < B; ++b)
        backward_run(run, T, C, batch_row<std::int32_t>(reset, b), batch_row<F>(x, b), batch_row<F>(gates, b),
                     static_cast<const F*>(optional_row<F>(out_gate, b)), lambda.data<F>(), batch_row<F>(saved, b),
                     batch_row<F>(dy, b), batch_row<F>(dx, b), batch_row<F>(dgates, b), optional_row<F>(dout_gate, b),
                     sum);
      F* dl = dlambda.data<F>();
      for (std::int64_t c = run.begin; c < run.end; ++c) dl[c] += sum[c - run.begin];
    });
  });
}

}  // namespace birdie::kernels::cpu
