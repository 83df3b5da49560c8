// Model FLOPs utilization: 6 · parameters · tokens per second (the forward and backward
// passes' matrix products) against a device's peak.
#pragma once

namespace birdie::training {

// The peak MFU is measured against unless told otherwise: an H100 SXM's dense bf16
// throughput, 989 TFLOP/s.
inline constexpr double default_peak_flops = 989e12;

inline double model_flops_utilization(double parameters, double tokens_per_second,
                                      double peak_flops = default_peak_flops) {
  return 6.0 * parameters * tokens_per_second / peak_flops;
}

}  // namespace birdie::training
