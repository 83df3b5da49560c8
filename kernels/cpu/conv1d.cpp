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

}  // namespace

void causal_conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Tensor& reset, ScanDirection direction, Tensor& y) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), K = weight.dim(0);
  const auto runs = channel_runs(C, direction);
  const auto R = static_cast<std::int64_t>(runs.size());
  dispatch_floating(x, "causal_conv1d_forward", [&](auto zero) {
    using F = decltype(zero);
    const F* px = x.data<F>();
    const F* pw = weight.data<F>();
    const F* pb = bias.data<F>();
    F* py = y.data<F>();
#pragma omp parallel for if (B * T * C * K > parallel_threshold)
    for (std::int64_t job = 0; job < B * R; ++job) {
      const std::int64_t b = job / R;
      const ChannelRun run = runs[job % R];
      const Segments segments(reset.data<std::int32_t>() + b * T, T);
      const F* xb = px + b * T * C;
      F* yb = py + b * T * C;
      for (std::int64_t t = 0; t < T; ++t) {
        F* out = yb + t * C;
        for (std::int64_t c = run.begin; c < run.end; ++c) out[c] = pb[c];
        for (std::int64_t k = 0; k < K; ++k) {
          const std::int64_t s = segments.source(t, k, run.reverse);
          if (s < 0) continue;
          for (std::int64_t c = run.begin; c < run.end; ++c) out[c] += pw[k * C + c] * xb[s * C + c];
        }
      }
    }
  });
}

void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& reset,
                            ScanDirection direction, const Tensor& dy, Tensor& dx,
                            Tensor& dweight, Tensor& dbias) {
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), K = weight.dim(0);
  const auto runs = channel_runs(C, direction);
  const auto R = static_cast<std::int64_t>(runs.size());
  std::vector<Segments> segments;
  segments.reserve(B);
  for (std::int64_t b = 0; b < B; ++b) segments.emplace_back(reset.data<std::int32_t>() + b * T, T);
  dispatch_floating(x, "causal_conv1d_backward", [&](auto zero) {
    using F = decltype(zero);
    const F* px = x.data<F>();
    const F* pw = weight.data<F>();
    const F* pdy = dy.data<F>();
    F* pdx = dx.data<F>();
    F* pdw = dweight.data<F>();
    F* pdb = dbias.data<F>();
#pragma omp parallel for if (B * T * C * K > parallel_threshold)
    for (std::int64_t r = 0; r < R; ++r) {
      const ChannelRun run = runs[r];
      for (std::int64_t b = 0; b < B; ++b) {
        const F* xb = px + b * T * C;
        const F* gb = pdy + b * T * C;
        F* dxb = pdx + b * T * C;
        for (std::int64_t t = 0; t < T; ++t)
          for (std::int64_t c = run.begin; c < run.end; ++c) dxb[t * C + c] = F(0);
        for (std::int64_t t = 0; t < T; ++t) {
          const F* g = gb + t * C;
          for (std::int64_t c = run.begin; c < run.end; ++c) pdb[c] += g[c];
          for (std::int64_t k = 0; k < K; ++k) {
            const std::int64_t s = segments[b].source(t, k, run.reverse);
            if (s < 0) continue;
            for (std::int64_t c = run.begin; c < run.end; ++c) {
              dxb[s * C + c] += pw[k * C + c] * g[c];
              pdw[k * C + c] += g[c] * xb[s * C + c];
            }
          }
        }
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
