#include "kernels/cpu/scan_step.h"

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {
std::int64_t forward_channels(ScanDirection direction, std::int64_t N) {
  return direction == ScanDirection::bidirectional ? N / 2 : N;
}
}  // namespace

void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  const std::int64_t forward = forward_channels(direction, N);
  dispatch_floating(proj, "gated_scan_final_state", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    const std::int32_t* pr = reset.data<std::int32_t>();
    F* ps = state.data<F>();
    for (std::int64_t b = 0; b < B; ++b) {
      F* h = ps + b * N;
      for (std::int64_t c = 0; c < N; ++c) h[c] = 0;
      for (std::int64_t t = 0; t < T; ++t) {
        const F* p = pp + (b * T + t) * 4 * N;
        const bool start = (pr[b * T + t] & reset_bits::segment_start) != 0;
        for (std::int64_t c = 0; c < forward; ++c)
          h[c] = (start ? F(0) : sigmoid(p[N + c]) * h[c]) + sigmoid(p[c]) * p[2 * N + c];
      }
    }
  });
}

void gated_scan_step(const Tensor& proj, Tensor& state, ScanDirection direction, Tensor& y) {
  const std::int64_t B = proj.dim(0), N = proj.dim(1) / 4;
  const std::int64_t forward = forward_channels(direction, N);
  dispatch_floating(proj, "gated_scan_step", [&](auto zero) {
    using F = decltype(zero);
    const F* pp = proj.data<F>();
    F* ps = state.data<F>();
    F* py = y.data<F>();
    for (std::int64_t b = 0; b < B; ++b) {
      const F* p = pp + b * 4 * N;
      for (std::int64_t c = 0; c < N; ++c) {
        const F drive = sigmoid(p[c]) * p[2 * N + c];
        const F h = c < forward ? sigmoid(p[N + c]) * ps[b * N + c] + drive : drive;
        if (c < forward) ps[b * N + c] = h;
        py[b * N + c] = gelu(p[3 * N + c]) * h;
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
