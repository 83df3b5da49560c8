// A fine-tuning learning curve reduced to one number: steps-to-threshold, the first
// fine-tuning step at which the held-out accuracy reaches a fixed level (the experiment's
// finetune.threshold). More sensitive than the final accuracy when every arm ends near the
// same level: an arm that learns the books faster reaches the threshold sooner. Its
// resolution is the curve's: points every finetune.curve_every steps, at 0 and at the end.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "training/finetune.h"

namespace birdie::apps {

// The step of the first point (in the curve's order, steps increasing) whose accuracy is
// ≥ threshold; nullopt when no point reaches it ("not reached").
std::optional<int> steps_to_threshold(const std::vector<training::CurvePoint>& curve, double threshold);

// One arm's steps-to-threshold over its pre-training seeds. A seed that never reached the
// threshold is only bounded from below (more than the fine-tuning steps), so the mean and
// the min-max are given when every seed reached it, and otherwise the count that did.
struct ThresholdSteps {
  std::vector<std::pair<int, std::optional<int>>> seeds;  // (seed, its step or not reached)

  std::size_t reached() const;
  bool all_reached() const { return !seeds.empty() && reached() == seeds.size(); }
  std::optional<double> mean() const;  // when every seed reached it
  std::optional<int> min() const;      // when every seed reached it
  std::optional<int> max() const;      // when every seed reached it
  // "150", "150 (100-200)" or "116.7 (100-150)" over seeds, "not reached", or
  // "not reached by 1 of 3 seeds".
  std::string text() const;
  // "seed 1: 150, seed 2: not reached".
  std::string seeds_text() const;
  // {"seeds": [{"seed": 1, "step": 150}, {"seed": 2, "step": null}], "reached": 1,
  //  "of": 2, "mean": null, "min": null, "max": null}.
  nlohmann::ordered_json json() const;
};

}  // namespace birdie::apps
