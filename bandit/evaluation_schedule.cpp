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

std::vector<std::int64_t> evaluation_schedule(std::int64_t total, std::int64_t max_evaluations) {
  BIRDIE_CHECK(max_evaluations >= 1, "evaluation_schedule: at most ", max_evaluations,
               " evaluations asked; a run evaluates at least once");
  const std::vector<std::int64_t> all = evaluation_schedule(total);
  const auto m = std::int64_t(all.size());
  if (m <= max_evaluations) return all;
  if (max_evaluations == 1) return {all.back()};
  std::vector<std::int64_t> kept;
  for (std::int64_t k = 0; k < max_evaluations; ++k)
    kept.push_back(all[std::size_t(std::llround(double(k) * double(m - 1) / double(max_evaluations - 1)))]);
  return kept;
}

}  // namespace birdie::bandit
