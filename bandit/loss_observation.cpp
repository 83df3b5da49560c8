#include "bandit/loss_observation.h"

#include <cmath>

#include "engine/error.h"

namespace birdie::bandit {

void check_observation(std::int64_t step, std::int64_t last_step, std::int64_t total_steps,
                       std::size_t loss_count, std::size_t configurations) {
  BIRDIE_CHECK(loss_count == configurations, "mixture policy: ", loss_count,
               " validation losses given but the policy has ", configurations,
               " configurations. Fix: pass one loss per configuration, in the order of "
               "policy.configurations()");
  BIRDIE_CHECK(step > last_step && step >= 1 && step <= total_steps, "mixture policy: evaluation at step ",
               step, " after one at step ", last_step, " in a run of ", total_steps,
               " steps. Fix: evaluation steps must increase strictly within [1, total_steps]");
}

SanitizedLosses sanitize_losses(const std::vector<double>& losses, const std::vector<double>& previous,
                                const std::vector<objectives::ObjectiveConfig>& configurations) {
  SanitizedLosses out;
  out.losses = losses;
  double finite_total = 0;
  std::size_t finite_count = 0;
  for (double x : losses)
    if (std::isfinite(x)) finite_total += x, ++finite_count;
  if (finite_count == 0) {
    out.usable = false;
    out.warnings.push_back("no validation loss is finite: evaluation ignored, mixture unchanged");
    return out;
  }
  for (std::size_t i = 0; i < losses.size(); ++i) {
    if (std::isfinite(losses[i])) continue;
    const bool has_previous = previous.size() == losses.size();
    out.losses[i] = has_previous ? previous[i] : finite_total / double(finite_count);
    out.warnings.push_back("loss of '" + configurations[i].name + "' is " + std::to_string(losses[i]) +
                           ": replaced by " + (has_previous ? "its previous loss" : "the mean finite loss") +
                           " (" + std::to_string(out.losses[i]) + ")");
  }
  return out;
}

}  // namespace birdie::bandit
