// The plain reference of kernels/conv1d.h, cut into channel runs (kernels/cpu/channel_runs.h):
// the backward pass gives each thread whole runs over every batch row, so the weight and
// bias gradients are summed without races, in a fixed order.
#include "kernels/cpu/conv1d.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/channel_runs.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/segments.h"

namespace birdie::kernels::cpu {

namespace {

// One batch row's segments: for every t, where its segment starts and ends (one past).
struct Segments {
  std::vector<std::int64_t> start, end;
  const std::int32_t* reset;

  Segments(const std::int32_t* row, std::int64_t T)
      : start(segment_starts(row, T)), end(segment_ends(row, T)), reset(row) {}

  // The position term k of output t reads, or -1 when the term is dropped (the rule of
  // kernels/conv1d.h).
  std::int64_t source(std::int64_t t, std::int64_t k, bool reverse) const {
    if (!reverse) return t - k >= start[t] ? t - k : -1;
    if (k == 0) return t;
    const std::int64_t s = t + k;
    if (s >= end[t] || (reset[t] & reset_bits::causal) || (reset[s] & reset_bits::causal)) return -1;
    return s;
  }
};

// One batch row's outputs over the run's channels: y = bias + Σ_k w[k] · x[source(t, k)].
template <class F>
void forward_run(const ChannelRun& run, const Segments& segments, std::int64_t T, std::int64_t C,
                 std::int64_t K, const F* x, const F* weight, const F* bias, F* y) {
  for (std::int64_t t = 0; t < T; ++t) {
    F* out = y + t * C;
    for (std::int64_t c = run.begin; c < run.end; ++c) out[c] = bias[c];
    for (std::int64_t k = 0; k < K; ++k) {
      const std::int64_t s = segments.source(t, k, run.reverse);
      if (s < 0) continue;
      for (std::int64_t c = run.begin; c < run.end; ++c) out[c] += weight[k * C + c] * x[s * C + c];
    }
  }
}

// One batch row over the run's channels: writes dx, adds into dweight and dbias.
template <class F>
void backward_run(const ChannelRun& run, const Segments& segments, std::int64_t T, std::int64_t C,
                  std::int64_t K, const F* x, const F* weight, const F* dy, F* dx, F* dweight,
                  F* dbias) {
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t c = run.begin; c < run.end; ++c) dx[t * C + c] = F(0);
  for (std::int64_t t = 0; t < T; ++t) {
    const F* g = dy + t * C;
    for (std::int64_t c = run.begin; c < run.end; ++c) dbias[c] += g[c];
    for (std::int64_t k = 0; k < K; ++k) {
      const std::int64_t s = segments.source(t, k, run.reverse);
      if (s < 0) continue;
      for (std::int64_t c = run.begin; c < run.end; ++c) {
        dx[s * C + c] += weight[k * C + c] * g[c];
        dweight[k * C + c] += g[c] * x[s * C + c];
      }
    }
  }
}

}  // namespace

void causal_conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Tensor& reset, ScanDirection direction, Tensor& y) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), K = weight.dim(0);
  dispatch_floating(x, "causal_conv1d_forward", [&](auto zero) {
    using F = decltype(zero);
    for_each_row_and_run(B, C, direction, B * T * C * K, [&](std::int64_t b, const ChannelRun& run) {
      const Segments segments(batch_row<std::int32_t>(reset, b), T);
      forward_run(run, segments, T, C, K, batch_row<F>(x, b), weight.data<F>(), bias.data<F>(),
                  batch_row<F>(y, b));
    });
  });
}

void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& reset,
                            ScanDirection direction, const Tensor& dy, Tensor& dx,
                            Tensor& dweight, Tensor& dbias) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), K = weight.dim(0);
  std::vector<Segments> segments;
  segments.reserve(B);
  for (std::int64_t b = 0; b < B; ++b) segments.emplace_back(batch_row<std::int32_t>(reset, b), T);
  dispatch_floating(x, "causal_conv1d_backward", [&](auto zero) {
    using F = decltype(zero);
    for_each_run(C, direction, B * T * C * K, [&](const ChannelRun& run) {
      for (std::int64_t b = 0; b < B; ++b)
        backward_run(run, segments[b], T, C, K, batch_row<F>(x, b), weight.data<F>(),
                     batch_row<F>(dy, b), batch_row<F>(dx, b), dweight.data<F>(),
                     dbias.data<F>());
    });
  });
}

}  // namespace birdie::kernels::cpu
