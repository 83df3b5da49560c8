// The plain reference of kernels/conv1d.h. Work is cut into runs of up to 64 channels that
// share a direction; within a run time is the outer loop and channels the inner one, so
// every access is contiguous. The backward pass gives each thread whole channel runs over
// every batch row, so the weight and bias gradients are summed without races, in a fixed
// order (the results do not depend on the thread count).
#include "kernels/cpu/conv1d.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

namespace {

constexpr std::int64_t channels_per_run = 64;

struct ChannelRun {
  std::int64_t begin, end;  // channels [begin, end)
  bool reverse;             // the look-ahead half of a bidirectional convolution
};

std::vector<ChannelRun> channel_runs(std::int64_t C, ScanDirection direction) {
  std::vector<ChannelRun> runs;
  const std::int64_t half = direction == ScanDirection::bidirectional ? C / 2 : C;
  for (std::int64_t part_begin : {std::int64_t(0), half}) {
    const std::int64_t part_end = part_begin == 0 ? half : C;
    for (std::int64_t c = part_begin; c < part_end; c += channels_per_run)
      runs.push_back({c, std::min(c + channels_per_run, part_end), part_begin > 0});
  }
  return runs;
}

// One batch row's segments: for every t, the first and last position of its segment.
struct Segments {
  std::vector<std::int64_t> first, last;
  const std::int32_t* reset;

  Segments(const std::int32_t* row, std::int64_t T) : first(T), last(T), reset(row) {
    for (std::int64_t t = 0; t < T; ++t)
      first[t] = t == 0 || (row[t] & reset_bits::segment_start) ? t : first[t - 1];
    for (std::int64_t t = T - 1; t >= 0; --t)
      last[t] = t == T - 1 || (row[t + 1] & reset_bits::segment_start) ? t : last[t + 1];
  }

  // The position term k of output t reads, or -1 when the term is dropped (the rule of
  // kernels/conv1d.h).
  std::int64_t source(std::int64_t t, std::int64_t k, bool reverse) const {
    if (!reverse) return t - k >= first[t] ? t - k : -1;
    if (k == 0) return t;
    const std::int64_t s = t + k;
    if (s > last[t] || (reset[t] & reset_bits::causal) || (reset[s] & reset_bits::causal)) return -1;
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
