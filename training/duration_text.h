// A duration for people: "H:MM:SS".
#pragma once

#include <string>

namespace birdie::training {

// Whole seconds, rounded; negative durations read as 0:00:00.
std::string duration_text(double seconds);

}  // namespace birdie::training
