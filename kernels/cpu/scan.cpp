#include "kernels/cpu/scan.h"

#include <vector>

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {

// A run of channels of one batch row that share a time direction. Time is the outer loop
// and channels the inner one, so every step reads contiguous memory and vectorizes; each
// channel's state lives in a small local array.
struct ChannelRun {
  std::int64_t T, N;            // time steps, state channels
  std::int64_t begin, end;      // channels [begin, end)
  const std::int32_t* reset;    // this row's reset bits
  bool reverse;                 // right to left (the reverse half of a bidirectional scan)

  std::int64_t time_at(std::int64_t step) const { return reverse ? T - 1 - step : step; }

  // The forget gate is forced to 0 where no state may flow in (see kernels/scan.h).
  bool blocked(std::int64_t t) const {
    if (!reverse) return (reset[t] & reset_bits::segment_start) != 0;
    const bool last_of_segment = t == T - 1 || (reset[t + 1] & reset_bits::segment_start) != 0;
    return last_of_segment || (reset[t] & reset_bits::causal) != 0;
  }
};

constexpr std::int64_t channels_per_run = 64;

// Splits each row's channels into runs that never straddle the forward/reverse boundary.
std::vector<ChannelRun> channel_runs(std::int64_t T, std::int64_t N, ScanDirection direction) {
  std::vector<ChannelRun> runs;
  const std::int64_t half = direction == ScanDirection::bidirectional ? N / 2 : N;
  for (std::int64_t part_begin : {std::int64_t(0), half}) {
    const std::int64_t part_end = part_begin == 0 ? half : N;
    for (std::int64_t c = part_begin; c < part_end; c += channels_per_run)
      runs.push_back({T, N, c, std::min(c + channels_per_run, part_end), nullptr, part_begin > 0});
  }
  return runs;
}

template <class F>
void forward_run(const ChannelRun& run, const F* proj, F* states, F* y) {
  const std::int64_t N = run.N;
  F h[channels_per_run] = {};
  for (std::int64_t s = 0; s < run.T; ++s) {
    const std::int64_t t = run.time_at(s);
    const F* p = proj + t * 4 * N;
    const bool blocked = run.blocked(t);
    for (std::int64_t c = run.begin; c < run.end; ++c) {
      F& state = h[c - run.begin];
      const F f = blocked ? F(0) : sigmoid(p[N + c]);
      state = f * state + sigmoid(p[c]) * p[2 * N + c];
      states[t * N + c] = state;
      y[t * N + c] = gelu(p[3 * N + c]) * state;
    }
  }
}

template <class F>
void backward_run(const ChannelRun& run, const F* proj, const F* states, const F* dy, F* dproj) {
  const std::int64_t N = run.N;
  F carry[channels_per_run] = {};  // gradient reaching h_t through the next step's forget gate
  for (std::int64_t s = run.T - 1; s >= 0; --s) {
    const std::int64_t t = run.time_at(s);
    const F* p = proj + t * 4 * N;
    F* d = dproj + t * 4 * N;
    const F* h_in = s > 0 ? states + run.time_at(s - 1) * N : nullptr;  // state flowing in
    const bool blocked = run.blocked(t);
    for (std::int64_t c = run.begin; c < run.end; ++c) {
      const F g = dy[t * N + c];
      const F dh = g * gelu(p[3 * N + c]) + carry[c - run.begin];
      const F si = sigmoid(p[c]);
      const F f = blocked ? F(0) : sigmoid(p[N + c]);
      d[c] = dh * p[2 * N + c] * si * (1 - si);
      d[N + c] = blocked || !h_in ? F(0) : dh * h_in[c] * f * (1 - f);
      d[2 * N + c] = dh * si;
      d[3 * N + c] = g * states[t * N + c] * gelu_derivative(p[3 * N + c]);
      carry[c - run.begin] = f * dh;
    }
  }
}

}  // namespace

Tensor gated_scan_forward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                          Tensor& y) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  Tensor states = Tensor::empty({B, T, N}, proj.dtype());
  const auto runs = channel_runs(T, N, direction);
  const auto R = static_cast<std::int64_t>(runs.size());
  dispatch_floating(proj, "gated_scan_forward", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    F* ps = states.data<F>();
    F* py = y.data<F>();
#pragma omp parallel for if (B * T * N > parallel_threshold)
    for (std::int64_t job = 0; job < B * R; ++job) {
      const std::int64_t b = job / R;
      ChannelRun run = runs[job % R];
      run.reset = reset.data<std::int32_t>() + b * T;
      forward_run(run, pp + b * T * 4 * N, ps + b * T * N, py + b * T * N);
    }
  });
  return states;
}

void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  const auto runs = channel_runs(T, N, direction);
  const auto R = static_cast<std::int64_t>(runs.size());
  dispatch_floating(proj, "gated_scan_backward", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    const F* ps = saved.data<F>();
    const F* pdy = dy.data<F>();
    F* pd = dproj.data<F>();
#pragma omp parallel for if (B * T * N > parallel_threshold)
    for (std::int64_t job = 0; job < B * R; ++job) {
      const std::int64_t b = job / R;
      ChannelRun run = runs[job % R];
      run.reset = reset.data<std::int32_t>() + b * T;
      backward_run(run, pp + b * T * 4 * N, ps + b * T * N, pdy + b * T * N, pd + b * T * 4 * N);
    }
  });
}

}  // namespace birdie::kernels::cpu
