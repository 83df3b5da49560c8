// Turning the critic's per-configuration predictions into the next mixture (docs/method.md §4):
// score(candidate) = Σ over classes present of the mean predicted reward over that class's
// configurations (so a class with many configurations does not outweigh one with few);
// next mixture = mean of the top_k candidates by score, renormalized.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/tensor.h"

namespace birdie::bandit {

// predicted [C, n] → scores [C]. `classes`: configuration indices per class (empty classes
// are skipped). NaN predictions make that candidate's score NaN (never chosen).
std::vector<double> class_balanced_scores(const Tensor& predicted,
                                          const std::vector<std::vector<std::size_t>>& classes);

struct TopCandidates {
  std::vector<double> mixture;      // [n], sums to 1
  std::vector<std::size_t> chosen;  // indices of the top candidates, best first
  double best_score = 0;
  double mean_score = 0;  // of the chosen ones
};
// Ties are broken by the lower index (stable). Throws when no score is finite.
TopCandidates mean_of_top_candidates(const Tensor& candidates, const std::vector<double>& scores,
                                     std::size_t top_k);

}  // namespace birdie::bandit
