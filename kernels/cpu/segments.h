// Segments of a packed row from its reset bits (kernels/scan.h): shared by the CPU
// references of attention, rotary embedding and the convolution.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/scan.h"

namespace birdie::kernels::cpu {

// start[t] = the first token of t's segment: a segment starts at t = 0 and wherever
// bit 0 (reset_bits::segment_start) is set.
inline std::vector<std::int64_t> segment_starts(const std::int32_t* reset, std::int64_t T) {
  std::vector<std::int64_t> start(T);
  for (std::int64_t t = 0; t < T; ++t)
    start[t] = (t == 0 || (reset[t] & reset_bits::segment_start)) ? t : start[t - 1];
  return start;
}

// end[t] = one past the last token of t's segment.
inline std::vector<std::int64_t> segment_ends(const std::int32_t* reset, std::int64_t T) {
  std::vector<std::int64_t> end(T);
  for (std::int64_t t = T - 1; t >= 0; --t)
    end[t] = (t == T - 1 || (reset[t + 1] & reset_bits::segment_start)) ? t + 1 : end[t + 1];
  return end;
}

}  // namespace birdie::kernels::cpu
