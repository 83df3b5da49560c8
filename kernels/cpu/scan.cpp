#include "kernels/cpu/scan.h"

#include "kernels/cpu/channel_runs.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {

// A channel run (kernels/cpu/channel_runs.h) of one batch row. Time is the outer loop and
// channels the inner one, so every step reads contiguous memory and vectorizes; each
// channel's state lives in a small local array.
struct RowRun {
  std::int64_t T, N;            // time steps, state channels
  std::int64_t begin, end;      // channels [begin, end)
  const std::int32_t* reset;    // this row's reset bits
  bool reverse;                 // right to left (the reverse half of a bidirectional scan)

  RowRun(const ChannelRun& run, std::int64_t steps, std::int64_t channels,
         const std::int32_t* row_reset)
      : T(steps), N(channels), begin(run.begin), end(run.end), reset(row_reset),
        reverse(run.reverse) {}

  std::int64_t time_at(std::int64_t step) const { return reverse ? T - 1 - step : step; }

  // The forget gate is forced to 0 where no state may flow in (see kernels/scan.h).
  bool blocked(std::int64_t t) const {
    if (!reverse) return (reset[t] & reset_bits::segment_start) != 0;
    const bool last_of_segment = t == T - 1 || (reset[t + 1] & reset_bits::segment_start) != 0;
    return last_of_segment || (reset[t] & reset_bits::causal) != 0;
  }
};

template <class F>
void forward_run(const RowRun& run, const F* proj, F* states, F* y) {
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
void backward_run(const RowRun& run, const F* proj, const F* states, const F* dy, F* dproj) {
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
  dispatch_floating(proj, "gated_scan_forward", [&](auto zero) {
    using F = decltype(zero);
    for_each_row_and_run(B, N, direction, B * T * N, [&](std::int64_t b, const ChannelRun& run) {
      forward_run(RowRun(run, T, N, batch_row<std::int32_t>(reset, b)), batch_row<F>(proj, b),
                  batch_row<F>(states, b), batch_row<F>(y, b));
    });
  });
  return states;
}

void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  dispatch_floating(proj, "gated_scan_backward", [&](auto zero) {
    using F = decltype(zero);
    for_each_row_and_run(B, N, direction, B * T * N, [&](std::int64_t b, const ChannelRun& run) {
      backward_run(RowRun(run, T, N, batch_row<std::int32_t>(reset, b)), batch_row<F>(proj, b),
                   batch_row<F>(saved, b), batch_row<F>(dy, b), batch_row<F>(dproj, b));
    });
  });
}

}  // namespace birdie::kernels::cpu
