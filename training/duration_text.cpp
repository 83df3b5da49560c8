#include "training/duration_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace birdie::training {

std::string duration_text(double seconds) {
  char buffer[32];
  const long s = std::lround(std::max(0.0, seconds));
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buffer;
}

}  // namespace birdie::training
