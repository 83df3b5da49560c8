// training/deferred_policy: a policy's evaluation work beside training, its mixture
// taking effect at a fixed step, logged once, and carried through a checkpoint.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "training/deferred_policy.h"

namespace birdie::testing {
namespace {

// Two configurations; each observe() takes a while and moves all weight to the other one.
class SlowPolicy final : public bandit::MixturePolicy {
 public:
  const std::vector<objectives::ObjectiveConfig>& configurations() const override { return configs_; }
  std::vector<double> current_mixture() const override { return mixture_; }
  const std::vector<std::int64_t>& evaluation_steps() const override { return steps_; }
  bandit::EvaluationRecord observe(std::int64_t step, const std::vector<double>& losses) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    std::swap(mixture_[0], mixture_[1]);
    ++observed;
    bandit::EvaluationRecord record;
    record.step = step;
    record.losses = losses;
    record.mixture = mixture_;
    return record;
  }
  void save(bandit::PolicyState&) const override {}
  void restore(const bandit::PolicyState&) override {}
  int observed = 0;

 private:
  std::vector<objectives::ObjectiveConfig> configs_{2};
  std::vector<double> mixture_{1.0, 0.0};
  std::vector<std::int64_t> steps_;
};

const std::vector<double> first{1.0, 0.0}, second{0.0, 1.0};

}  // namespace

TEST_CASE("deferred policy: the mixture takes effect lag steps after the evaluation, or at the next one") {
  SlowPolicy policy;
  training::DeferredPolicy deferred(policy, 3);
  deferred.start(10, {2.0, 3.0}, 20);
  for (std::int64_t step = 10; step < 13; ++step) {
    const auto update = deferred.after_step(step);
    CHECK_FALSE(update.switch_mixture);
    CHECK_FALSE(update.record);
    CHECK(deferred.mixture_in_effect() == first);
  }
  const auto update = deferred.after_step(13);
  CHECK(update.switch_mixture);
  REQUIRE(update.record);
  CHECK(update.record->step == 10);
  CHECK(deferred.mixture_in_effect() == second);
  CHECK_FALSE(deferred.after_step(14).switch_mixture);

  deferred.start(20, {1.0, 1.0}, 21);  // the next evaluation comes first: effect at 21
  CHECK_FALSE(deferred.after_step(20).switch_mixture);
  CHECK(deferred.after_step(21).switch_mixture);
  CHECK(deferred.mixture_in_effect() == first);
  CHECK(policy.observed == 2);
}

TEST_CASE("deferred policy: lag 0 applies at once") {
  SlowPolicy policy;
  training::DeferredPolicy deferred(policy, 0);
  deferred.start(5, {1.0, 1.0}, 9);
  const auto update = deferred.after_step(5);
  CHECK(update.switch_mixture);
  CHECK(update.record);
  CHECK(deferred.mixture_in_effect() == second);
}

TEST_CASE("deferred policy: settled before a checkpoint, logged once, the switch resumed at its step") {
  SlowPolicy policy;
  training::DeferredPolicy deferred(policy, 5);
  deferred.start(10, {1.0, 1.0}, 30);
  const auto record = deferred.settle();
  REQUIRE(record);
  CHECK(record->step == 10);
  CHECK_FALSE(deferred.settle());
  CHECK(deferred.mixture_in_effect() == first);  // the policy's mixture waits for step 15
  model::TrainingState state;
  state.step = 12;
  deferred.save(state);
  REQUIRE(state.sections.count("deferred_mixture") == 1);

  training::DeferredPolicy resumed(policy, 5);  // the policy itself restored to after observe
  resumed.restore(state);
  CHECK(resumed.mixture_in_effect() == first);
  CHECK_FALSE(resumed.after_step(14).switch_mixture);
  const auto update = resumed.after_step(15);
  CHECK(update.switch_mixture);
  CHECK_FALSE(update.record);  // logged before the checkpoint already
  CHECK(resumed.mixture_in_effect() == second);

  // Without a pending switch a checkpoint holds no section, and a restore keeps the policy's mixture.
  model::TrainingState plain;
  plain.step = 20;
  resumed.save(plain);
  CHECK(plain.sections.empty());
}

TEST_CASE("deferred policy: refused inputs") {
  SlowPolicy policy;
  CHECK_THROWS_WITH_AS(training::DeferredPolicy(policy, -1), doctest::Contains("policy_lag_steps"), Error);
  training::DeferredPolicy deferred(policy, 4);
  deferred.start(3, {1.0, 1.0}, 10);
  CHECK_THROWS_WITH_AS(deferred.start(4, {1.0, 1.0}, 10), doctest::Contains("before the previous one took effect"),
                       Error);
  model::TrainingState state;
  state.step = 3;
  CHECK_THROWS_WITH_AS(deferred.save(state), doctest::Contains("settle"), Error);
  deferred.settle();
  deferred.save(state);
  state.step = 7;  // a switch at step 7 in a checkpoint of step 7 cannot be
  CHECK_THROWS_WITH_AS(deferred.restore(state), doctest::Contains("a mixture switch at step 7"), Error);
}

}  // namespace birdie::testing
