#include "kernels/cpu/scan_step.h"

#include "kernels/cpu/channel_runs.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state) {
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  const std::int64_t forward = forward_channels(direction, N);
  dispatch_floating(proj, "gated_scan_final_state", [&](auto zero) {
    using F = decltype(zero);
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int32_t* row_reset = batch_row<std::int32_t>(reset, b);
      F* h = batch_row<F>(state, b);
      for (std::int64_t c = 0; c < N; ++c) h[c] = 0;
      for (std::int64_t t = 0; t < T; ++t) {
        const F* p = batch_row<F>(proj, b) + t * 4 * N;
        const bool start = (row_reset[t] & reset_bits::segment_start) != 0;
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
    for (std::int64_t b = 0; b < B; ++b) {
      const F* p = batch_row<F>(proj, b);
      F* h_row = batch_row<F>(state, b);
      F* out = batch_row<F>(y, b);
      for (std::int64_t c = 0; c < N; ++c) {
        const F drive = sigmoid(p[c]) * p[2 * N + c];
        const F h = c < forward ? sigmoid(p[N + c]) * h_row[c] + drive : drive;
        if (c < forward) h_row[c] = h;
        out[c] = gelu(p[3 * N + c]) * h;
      }
    }
  });
}

}  // namespace birdie::kernels::cpu
