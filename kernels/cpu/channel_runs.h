// How the CPU references of the per-channel recurrences and convolutions (kernels/cpu/
// conv1d.cpp, rglru.cpp) cut their work: runs of up to 64 channels that share a direction.
// Within a run time is the outer loop and channels the inner one, so every access is
// contiguous; a thread owns whole runs, so per-channel gradient sums need no atomics and
// come out in a fixed order whatever the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/scan.h"

namespace birdie::kernels::cpu {

constexpr std::int64_t channels_per_run = 64;

struct ChannelRun {
  std::int64_t begin, end;  // channels [begin, end)
  bool reverse;             // the right-to-left half of a bidirectional op
};

// Causal: runs over [0, C); bidirectional: over [0, C/2) forwards, then [C/2, C) reversed.
inline std::vector<ChannelRun> channel_runs(std::int64_t C, ScanDirection direction) {
  std::vector<ChannelRun> runs;
  const std::int64_t half = direction == ScanDirection::bidirectional ? C / 2 : C;
  for (std::int64_t part_begin : {std::int64_t(0), half}) {
    const std::int64_t part_end = part_begin == 0 ? half : C;
    for (std::int64_t c = part_begin; c < part_end; c += channels_per_run)
      runs.push_back({c, std::min(c + channels_per_run, part_end), part_begin > 0});
  }
  return runs;
}

}  // namespace birdie::kernels::cpu
