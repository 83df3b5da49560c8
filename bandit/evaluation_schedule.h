// When to evaluate (docs/method.md §4), scaled to the run's length. The paper's 32000-step run
// evaluates at 10, 50, 250 (these seed the critic's history while the mixture stays
// uniform), then 500, 1000, 1500, 2000 and every 1000 steps to the end. Each is taken as a
// fraction of 32000 and scaled: round(total · s / 32000), kept when 1 ≤ step ≤ total,
// deduplicated. Floor for short runs: when that gives fewer than 8 evaluations, the steps
// round(total · k / 8), k = 1..8, are added (a run shorter than 8 steps evaluates every step).
#pragma once

#include <cstdint>
#include <vector>

namespace birdie::bandit {

constexpr std::int64_t paper_total_steps = 32000;
constexpr int minimum_evaluations = 8;
// The mixture stays uniform before this fraction of the run (250 of 32000 in the paper).
constexpr double paper_uniform_fraction = 250.0 / 32000.0;

std::vector<std::int64_t> evaluation_schedule(std::int64_t total_steps);

// The schedule above, thinned to at most `max_evaluations` (≥ 1): the evaluations at evenly
// spaced positions of the list, round(k · (m − 1) / (n − 1)) for k = 0..n−1 (the first and
// the last kept), so the schedule keeps its shape: dense early, where losses move fastest.
// Unchanged when it holds no more than max_evaluations steps.
std::vector<std::int64_t> evaluation_schedule(std::int64_t total_steps, std::int64_t max_evaluations);

}  // namespace birdie::bandit
