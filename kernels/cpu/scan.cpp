#include "kernels/cpu/scan.h"

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {

// One (batch row, channel) recurrence. A channel runs left to right (forward) or right to
// left (reverse); `step` walks time in the scan's own order, `prev` is the neighbour whose
// state flows in.
struct Lane {
  std::int64_t T, N;  // time steps, state channels
  const std::int32_t* reset;
  bool reverse;

  std::int64_t time_at(std::int64_t step) const { return reverse ? T - 1 - step : step; }

  // The forget gate is forced to 0 where no state may flow in (see kernels/scan.h).
  bool blocked(std::int64_t t) const {
    if (!reverse) return (reset[t] & reset_bits::segment_start) != 0;
    const bool last_of_segment = t == T - 1 || (reset[t + 1] & reset_bits::segment_start) != 0;
    return last_of_segment || (reset[t] & reset_bits::causal) != 0;
  }
};

bool is_reverse_channel(ScanDirection direction, std::int64_t c, std::int64_t N) {
  return direction == ScanDirection::bidirectional && c >= N / 2;
}

template <class T>
void forward_lane(const Lane& lane, const T* proj, T* states, T* y, std::int64_t c) {
  const std::int64_t N = lane.N;
  T h = 0;
  for (std::int64_t s = 0; s < lane.T; ++s) {
    const std::int64_t t = lane.time_at(s);
    const T* p = proj + t * 4 * N;
    const T f = lane.blocked(t) ? T(0) : sigmoid(p[N + c]);
    h = f * h + sigmoid(p[c]) * p[2 * N + c];
    states[t * N + c] = h;
    y[t * N + c] = gelu(p[3 * N + c]) * h;
  }
}

template <class T>
void backward_lane(const Lane& lane, const T* proj, const T* states, const T* dy, T* dproj,
                   std::int64_t c) {
  const std::int64_t N = lane.N;
  T carry = 0;  // gradient reaching h_t through the next step's forget gate
  for (std::int64_t s = lane.T - 1; s >= 0; --s) {
    const std::int64_t t = lane.time_at(s);
    const T* p = proj + t * 4 * N;
    T* d = dproj + t * 4 * N;
    const T h = states[t * N + c];
    const T h_in = s > 0 ? states[lane.time_at(s - 1) * N + c] : T(0);
    const T g = dy[t * N + c];
    const T dh = g * gelu(p[3 * N + c]) + carry;
    const T si = sigmoid(p[c]);
    const bool blocked = lane.blocked(t);
    const T f = blocked ? T(0) : sigmoid(p[N + c]);
    d[c] = dh * p[2 * N + c] * si * (1 - si);
    d[N + c] = blocked ? T(0) : dh * h_in * f * (1 - f);
    d[2 * N + c] = dh * si;
    d[3 * N + c] = g * h * gelu_derivative(p[3 * N + c]);
    carry = f * dh;
  }
}

}  // namespace

Tensor gated_scan_forward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                          Tensor& y) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  Tensor states = Tensor::empty({B, T, N}, proj.dtype());
  dispatch_floating(proj, "gated_scan_forward", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    const std::int32_t* pr = reset.data<std::int32_t>();
    F* ps = states.data<F>();
    F* py = y.data<F>();
#pragma omp parallel for collapse(2) if (B * T * N > parallel_threshold)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t c = 0; c < N; ++c) {
        const Lane lane{T, N, pr + b * T, is_reverse_channel(direction, c, N)};
        forward_lane(lane, pp + b * T * 4 * N, ps + b * T * N, py + b * T * N, c);
      }
  });
  return states;
}

void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  dispatch_floating(proj, "gated_scan_backward", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    const std::int32_t* pr = reset.data<std::int32_t>();
    const F* ps = saved.data<F>();
    const F* pdy = dy.data<F>();
    F* pd = dproj.data<F>();
#pragma omp parallel for collapse(2) if (B * T * N > parallel_threshold)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t c = 0; c < N; ++c) {
        const Lane lane{T, N, pr + b * T, is_reverse_channel(direction, c, N)};
        backward_lane(lane, pp + b * T * 4 * N, ps + b * T * N, pdy + b * T * N,
                      pd + b * T * 4 * N, c);
      }
  });
}

}  // namespace birdie::kernels::cpu
