#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "bandit/candidate_mixtures.h"
#include "bandit/candidate_scoring.h"
#include "bandit/exploration.h"

using namespace birdie;
using namespace birdie::bandit;

TEST_CASE("candidates: on the simplex, the sharpened half concentrated") {
  RandomGenerator rng(1);
  const std::int64_t n = 20, half = 400;
  const Tensor c = draw_candidate_mixtures(n, half, half, 4.0, rng);
  REQUIRE(c.shape() == Shape{2 * half, n});
  const float* p = c.data<float>();
  double max_uniform = 0, max_sharpened = 0;
  for (std::int64_t r = 0; r < 2 * half; ++r) {
    double total = 0, largest = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      CHECK(p[r * n + i] >= 0.0f);
      total += p[r * n + i];
      largest = std::max(largest, double(p[r * n + i]));
    }
    CHECK(std::abs(total - 1.0) < 1e-5);
    (r < half ? max_uniform : max_sharpened) += largest / half;
  }
  // Dirichlet(1) over 20: E[max] ≈ H_20 / 20 ≈ 0.18; the 4th power pushes it above 0.5.
  CHECK(max_uniform == doctest::Approx(0.18).epsilon(0.15));
  CHECK(max_sharpened > 0.5);
  // Different streams, different candidates; same stream, same candidates.
  RandomGenerator again(1);
  CHECK(draw_candidate_mixtures(n, half, half, 4.0, again).to_vector<float>() == c.to_vector<float>());
}

TEST_CASE("scoring: class-balanced sum of class means, mean of the top k renormalized") {
  // 4 configurations: class A = {0}, class B = {1, 2, 3}.
  const std::vector<std::vector<std::size_t>> classes = {{0}, {}, {1, 2, 3}};
  const Tensor predicted = Tensor::from_values<float>(
      {1.0f, 0.0f, 0.0f, 0.0f,    // 1 + 0
       0.0f, 3.0f, 3.0f, 3.0f,    // 0 + 3
       0.5f, 0.0f, 0.0f, 3.0f},   // 0.5 + 1
      {3, 4});
  const std::vector<double> scores = class_balanced_scores(predicted, classes);
  REQUIRE(scores.size() == 3);
  CHECK(scores[0] == doctest::Approx(1.0));
  CHECK(scores[1] == doctest::Approx(3.0));
  CHECK(scores[2] == doctest::Approx(1.5));
  const Tensor candidates = Tensor::from_values<float>(
      {0.7f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.7f, 0.25f, 0.25f, 0.25f, 0.25f}, {3, 4});
  const TopCandidates top = mean_of_top_candidates(candidates, scores, 2);
  REQUIRE(top.chosen == std::vector<std::size_t>{1, 2});
  CHECK(top.mixture[0] == doctest::Approx(0.175));
  CHECK(top.mixture[3] == doctest::Approx(0.475));
  CHECK(top.best_score == doctest::Approx(3.0));
  CHECK(top.mean_score == doctest::Approx(2.25));
  // A non-finite score is never chosen; all non-finite is an error, not a silent pick.
  const double nan = std::nan("");
  CHECK(mean_of_top_candidates(candidates, {nan, 0.0, 1.0}, 1).chosen == std::vector<std::size_t>{2});
  CHECK_THROWS_WITH(mean_of_top_candidates(candidates, {nan, nan, nan}, 1),
                    doctest::Contains("no candidate has a finite score"));
}

TEST_CASE("exploration: ε schedule and the exploration action") {
  const ExplorationSchedule s;
  CHECK(exploration_probability(0, 1000, s) == 1.0);
  CHECK(exploration_probability(49, 1000, s) == 1.0);
  CHECK(exploration_probability(50, 1000, s) == 0.5);
  CHECK(exploration_probability(99, 1000, s) == 0.5);
  CHECK(exploration_probability(100, 1000, s) == doctest::Approx(0.5));
  CHECK(exploration_probability(300, 1000, s) == doctest::Approx(0.35));
  CHECK(exploration_probability(500, 1000, s) == doctest::Approx(0.2));
  CHECK(exploration_probability(900, 1000, s) == doctest::Approx(0.2));

  // 3 classes present: {0}, {2, 3}, {4, 5, 6}; configuration 1 belongs to no class.
  const std::vector<std::vector<std::size_t>> classes = {{0}, {}, {2, 3}, {}, {4, 5, 6}};
  RandomGenerator rng(3);
  std::set<std::size_t> picked_counts;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::size_t> picked;
    const std::vector<double> w = exploration_mixture(classes, 7, 0.005, rng, &picked);
    REQUIRE((picked.size() == 1 || picked.size() == 2));
    picked_counts.insert(picked.size());
    double total = 0;
    for (double x : w) total += x;
    CHECK(total == doctest::Approx(1.0));
    CHECK(w[1] == 0.0);
    double picked_mass = 0;
    for (std::size_t c : {0, 2, 4}) {
      double mass = 0;
      for (std::size_t i : classes[c]) mass += w[i];
      const bool chosen = std::find(picked.begin(), picked.end(), c) != picked.end();
      if (!chosen) CHECK(mass == doctest::Approx(0.005));
      else picked_mass += mass;
    }
    CHECK(picked_mass == doctest::Approx(1.0 - 0.005 * double(3 - picked.size())));
  }
  CHECK(picked_counts.size() == 2);  // both 1 and 2 classes happen
}
