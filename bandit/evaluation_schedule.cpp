#include "bandit/evaluation_schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace birdie::bandit {

std::vector<std::int64_t> evaluation_schedule(std::int64_t total) {
  BIRDIE_CHECK(total >= 1, "evaluation_schedule: the run must have ≥ 1 step, got ", total);
  std::vector<std::int64_t> paper = {10, 50, 250, 500, 1000, 1500, 2000};
  for (std::int64_t s = 3000; s <= paper_total_steps; s += 1000) paper.push_back(s);
  std::vector<std::int64_t> steps;
  const auto add = [&](double numerator, double denominator) {
    const auto step = static_cast<std::int64_t>(std::llround(double(total) * numerator / denominator));
    if (step >= 1 && step <= total) steps.push_back(step);
  };
  for (std::int64_t s : paper) add(double(s), double(paper_total_steps));
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  if (steps.size() < minimum_evaluations) {
    for (int k = 1; k <= minimum_evaluations; ++k) add(k, minimum_evaluations);
    if (total < minimum_evaluations)
      for (std::int64_t s = 1; s <= total; ++s) steps.push_back(s);
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  }
  return steps;
}

}  // namespace birdie::bandit
