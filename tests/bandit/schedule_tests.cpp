#include <doctest/doctest.h>

#include "bandit/evaluation_schedule.h"

using birdie::bandit::evaluation_schedule;

TEST_CASE("schedule: the paper's steps for a 32000-step run") {
  std::vector<std::int64_t> expected = {10, 50, 250, 500, 1000, 1500, 2000};
  for (std::int64_t s = 3000; s <= 32000; s += 1000) expected.push_back(s);
  CHECK(evaluation_schedule(32000) == expected);
  // Scaled: a 64000-step run evaluates at twice the steps.
  std::vector<std::int64_t> doubled;
  for (auto s : expected) doubled.push_back(2 * s);
  CHECK(evaluation_schedule(64000) == doubled);
}

TEST_CASE("schedule: short runs still get at least 8 evaluations, within the run") {
  for (std::int64_t total : {1, 3, 7, 8, 9, 10, 20, 50, 100, 333, 1000, 5000}) {
    CAPTURE(total);
    const auto steps = evaluation_schedule(total);
    CHECK(steps.size() >= std::size_t(std::min<std::int64_t>(8, total)));
    CHECK(steps.front() >= 1);
    CHECK(steps.back() == total);
    for (std::size_t i = 1; i < steps.size(); ++i) CHECK(steps[i] > steps[i - 1]);
  }
  CHECK(evaluation_schedule(3) == std::vector<std::int64_t>{1, 2, 3});
  CHECK_THROWS(evaluation_schedule(0));
}

TEST_CASE("schedule: thinned to a budget of evaluations, evenly over the list, first and last kept") {
  const auto all = evaluation_schedule(32000);
  CHECK(evaluation_schedule(32000, 37) == all);
  CHECK(evaluation_schedule(32000, 100) == all);
  // 37 steps thinned to 5: positions 0, 9, 18, 27, 36 of the list.
  CHECK(evaluation_schedule(32000, 5) == std::vector<std::int64_t>{all[0], all[9], all[18], all[27], all[36]});
  CHECK(evaluation_schedule(32000, 1) == std::vector<std::int64_t>{32000});
  for (std::int64_t total : {7, 60, 240, 1500}) {
    for (std::int64_t n : {2, 3, 4, 8, 12}) {
      CAPTURE(total);
      CAPTURE(n);
      const auto steps = evaluation_schedule(total, n);
      CHECK(std::int64_t(steps.size()) == std::min<std::int64_t>(n, std::int64_t(evaluation_schedule(total).size())));
      CHECK(steps.front() == evaluation_schedule(total).front());
      CHECK(steps.back() == total);
      for (std::size_t i = 1; i < steps.size(); ++i) CHECK(steps[i] > steps[i - 1]);
    }
  }
  CHECK_THROWS(evaluation_schedule(100, 0));
}
