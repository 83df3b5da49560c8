#include "bandit/candidate_scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/error.h"

namespace birdie::bandit {

std::vector<double> class_balanced_scores(const Tensor& predicted,
                                          const std::vector<std::vector<std::size_t>>& classes) {
  BIRDIE_CHECK(predicted.rank() == 2, "class_balanced_scores: predictions ", predicted.describe(),
               " must be [candidates, configurations]");
  const std::int64_t C = predicted.dim(0), n = predicted.dim(1);
  const std::vector<float> values = predicted.to_vector<float>();
  std::vector<double> scores(C, 0.0);
  for (const auto& members : classes)
    for (std::size_t i : members)
      BIRDIE_CHECK(static_cast<std::int64_t>(i) < n, "class_balanced_scores: configuration ", i,
                   " outside the ", n, " predicted");
  for (std::int64_t c = 0; c < C; ++c) {
    const float* row = values.data() + c * n;
    double score = 0;
    for (const auto& members : classes) {
      if (members.empty()) continue;
      double total = 0;
      for (std::size_t i : members) total += row[i];
      score += total / double(members.size());
    }
    scores[c] = score;
  }
  return scores;
}

TopCandidates mean_of_top_candidates(const Tensor& candidates, const std::vector<double>& scores,
                                     std::size_t top_k) {
  BIRDIE_CHECK(candidates.rank() == 2 && candidates.dim(0) == std::int64_t(scores.size()),
               "mean_of_top_candidates: ", scores.size(), " scores for candidates ",
               candidates.describe());
  BIRDIE_CHECK(top_k >= 1, "mean_of_top_candidates: top_k must be ≥ 1");
  std::vector<std::size_t> order;
  for (std::size_t c = 0; c < scores.size(); ++c)
    if (std::isfinite(scores[c])) order.push_back(c);
  BIRDIE_CHECK(!order.empty(), "mean_of_top_candidates: no candidate has a finite score "
               "(the critic's predictions are not finite)");
  const std::size_t k = std::min(top_k, order.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](std::size_t a, std::size_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  order.resize(k);
  const std::int64_t n = candidates.dim(1);
  const float* pc = candidates.data<float>();
  TopCandidates top;
  top.mixture.assign(n, 0.0);
  for (std::size_t c : order) {
    for (std::int64_t i = 0; i < n; ++i) top.mixture[i] += pc[c * n + i];
    top.mean_score += scores[c] / double(k);
  }
  const double total = std::accumulate(top.mixture.begin(), top.mixture.end(), 0.0);
  for (double& w : top.mixture) w /= total;
  top.chosen = order;
  top.best_score = scores[order.front()];
  return top;
}

}  // namespace birdie::bandit
