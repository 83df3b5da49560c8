#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "bandit/reward.h"

using birdie::bandit::interval_reward;

TEST_CASE("reward: the check values of docs/method.md §4") {
  struct Case { double old_loss, new_loss, expected; };
  for (const Case c : {Case{4.5, 4.2, 0.952}, Case{3.0, 2.9, 0.081}, Case{3.0, 2.8, 0.635},
                       Case{1.0, 0.9, 0.701}, Case{3.0, 3.1, -0.084}}) {
    CAPTURE(c.old_loss);
    CAPTURE(c.new_loss);
    // §4 states 3 decimals; 3.0→3.1 is -0.08346 exactly, which §4 writes -0.084.
    CHECK(std::abs(interval_reward(c.old_loss, c.new_loss) - c.expected) < 1e-3);
  }
}

TEST_CASE("reward: clipped to [-1, 1], NaN gives 0, no change gives 0") {
  CHECK(interval_reward(5.0, 1.0) == 1.0);
  CHECK(interval_reward(1.0, 5.0) == -1.0);
  CHECK(interval_reward(2.0, 2.0) == 0.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(interval_reward(nan, 2.0) == 0.0);
  CHECK(interval_reward(2.0, nan) == 0.0);
  CHECK(interval_reward(-1.0, 2.0) == 0.0);  // sqrt of a negative product: NaN
  CHECK(birdie::bandit::interval_rewards({4.5, 3.0}, {4.2, 3.1}).size() == 2);
  CHECK_THROWS(birdie::bandit::interval_rewards({4.5}, {4.2, 3.1}));
}
