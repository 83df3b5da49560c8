// Checks shared by every policy's observe(): the loss vector's length and the step order
// are programming errors (thrown); non-finite losses are data problems with a safe,
// logged fallback: each is replaced by that configuration's previous loss (its reward is
// then 0), or, when there is none yet, by the mean of this evaluation's finite losses.
// An evaluation with no finite loss at all is unusable: the policy keeps its mixture and
// its history unchanged and the record says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "objectives/objective_config.h"

namespace birdie::bandit {

void check_observation(std::int64_t step, std::int64_t last_step, std::int64_t total_steps,
                       std::size_t loss_count, std::size_t configurations);

struct SanitizedLosses {
  std::vector<double> losses;  // all finite when usable
  std::vector<std::string> warnings;
  bool usable = true;
};

// previous: the last usable losses (empty when none yet).
SanitizedLosses sanitize_losses(const std::vector<double>& losses, const std::vector<double>& previous,
                                const std::vector<objectives::ObjectiveConfig>& configurations);

}  // namespace birdie::bandit
