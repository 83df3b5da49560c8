// How the CPU references of the per-channel recurrences and convolutions (kernels/cpu/
// conv1d.cpp, rglru.cpp, scan.cpp) cut their work: runs of up to 64 channels that share a
// direction. Within a run time is the outer loop and channels the inner one, so every access is
// contiguous; a thread owns whole runs, so per-channel gradient sums need no atomics and
// come out in a fixed order whatever the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/dispatch.h"
#include "kernels/scan.h"

namespace birdie::kernels::cpu {

constexpr std::int64_t channels_per_run = 64;

struct ChannelRun {
  std::int64_t begin, end;  // channels [begin, end)
  bool reverse;             // the right-to-left half of a bidirectional op
};

// How many of C channels run left to right: all of them, or the first half of a
// bidirectional op's.
inline std::int64_t forward_channels(ScanDirection direction, std::int64_t C) {
  return direction == ScanDirection::bidirectional ? C / 2 : C;
}

// Causal: runs over [0, C); bidirectional: over [0, C/2) forwards, then [C/2, C) reversed.
inline std::vector<ChannelRun> channel_runs(std::int64_t C, ScanDirection direction) {
  std::vector<ChannelRun> runs;
  const std::int64_t half = forward_channels(direction, C);
  for (std::int64_t part_begin : {std::int64_t(0), half}) {
    const std::int64_t part_end = part_begin == 0 ? half : C;
    for (std::int64_t c = part_begin; c < part_end; c += channels_per_run)
      runs.push_back({c, std::min(c + channels_per_run, part_end), part_begin > 0});
  }
  return runs;
}

// Calls fn(b, run) for every batch row b < B and every run of C channels, each pair a job
// of its own (forward passes, and backward ones with no per-channel sum); `work` as for
// parallel_for.
template <class Fn>
void for_each_row_and_run(std::int64_t B, std::int64_t C, ScanDirection direction,
                          std::int64_t work, Fn&& fn) {
  const auto runs = channel_runs(C, direction);
  const auto R = static_cast<std::int64_t>(runs.size());
  parallel_for(B * R, work, [&](std::int64_t job) { fn(job / R, runs[job % R]); });
}

// Calls fn(run) for every run of C channels, one job each, which then loops over the batch
// rows itself: a backward pass whose per-channel gradient sums this way need no atomics.
template <class Fn>
void for_each_run(std::int64_t C, ScanDirection direction, std::int64_t work, Fn&& fn) {
  const auto runs = channel_runs(C, direction);
  parallel_for(static_cast<std::int64_t>(runs.size()), work,
               [&](std::int64_t r) { fn(runs[r]); });
}

}  // namespace birdie::kernels::cpu
