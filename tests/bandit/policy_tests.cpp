#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "bandit/evaluation_record.h"
#include "bandit/evaluation_schedule.h"
#include "bandit/policy_checkpoint.h"
#include "bandit/reward_driven_policy.h"
#include "bandit_test_util.h"

using namespace birdie;
using namespace birdie::bandit;
using birdie::objectives::ObjectiveClass;

using testing::every;
using testing::run_synthetic;

TEST_CASE("policy: fixed mixtures go through the same interface and never move") {
  const auto grid = testing::small_grid();
  for (const char* kind : {"ntp", "ul2", "uniform", "fixed"}) {
    CAPTURE(kind);
    MixturePolicyConfig config;
    config.kind = kind;
    if (config.kind == "fixed") config.weights = {0.5, 0, 0.25, 0, 0, 0.25, 0};
    auto policy = make_mixture_policy(config, grid, 1000, 1);
    const std::vector<double> initial = policy->current_mixture();
    CHECK(policy->evaluation_steps() == evaluation_schedule(1000));
    const std::size_t n = policy->configurations().size();
    CHECK(n == (config.kind == "ntp" ? 1u : config.kind == "ul2" ? 7u : grid.configs.size()));
    std::vector<double> losses(n, 4.0);
    for (std::size_t e = 0; e < 5; ++e) {
      const EvaluationRecord r = policy->observe(policy->evaluation_steps()[e], losses);
      CHECK(r.decision == "fixed");
      CHECK(r.mixture == initial);
      CHECK(r.rewards.size() == (e == 0 ? 0 : n));
      CHECK(policy->current_mixture() == initial);
      for (double& l : losses) l *= 0.95;
    }
    PolicyState state;
    policy->save(state);
    auto resumed = make_mixture_policy(config, grid, 1000, 1);
    resumed->restore(state);
    const auto a = policy->observe(policy->evaluation_steps()[5], losses);
    const auto b = resumed->observe(policy->evaluation_steps()[5], losses);
    CHECK(a.rewards == b.rewards);
  }
  MixturePolicyConfig fixed;
  fixed.kind = "fixed";
  fixed.weights = {0.5, 0, 0.25, 0, 0, 0.25, 0};
  CHECK(make_mixture_policy(fixed, grid, 1000, 1)->current_mixture() == fixed.weights);
}

TEST_CASE("policy: bad input is an error or a logged safe fallback") {
  const auto grid = testing::small_grid();
  MixturePolicyConfig config = testing::fast_birdie_config();
  SUBCASE("an empty grid") {
    objectives::ObjectiveGrid empty;
    empty.source = "empty.toml";
    CHECK_THROWS_WITH(make_mixture_policy(config, empty, 1000, 1), doctest::Contains("no configurations"));
    config.kind = "uniform";
    CHECK_THROWS_WITH(make_mixture_policy(config, empty, 1000, 1), doctest::Contains("no configurations"));
  }
  SUBCASE("fixed weights that do not sum to 1, are negative or of the wrong length") {
    config.kind = "fixed";
    config.weights = {0.5, 0, 0.25, 0, 0, 0.5, 0};
    CHECK_THROWS_WITH(make_mixture_policy(config, grid, 1000, 1), doctest::Contains("sum to 1.25"));
    config.weights = {1.5, 0, -0.5, 0, 0, 0, 0};
    CHECK_THROWS_WITH(make_mixture_policy(config, grid, 1000, 1), doctest::Contains("non-negative"));
    config.weights = {1.0};
    CHECK_THROWS_WITH(make_mixture_policy(config, grid, 1000, 1), doctest::Contains("1 weights for 7"));
    config.weights.clear();
    CHECK_THROWS(make_mixture_policy(config, grid, 1000, 1));  // neither weights nor a file
    CHECK_THROWS_WITH(check_mixture({0.3, 0.3}, 2, "m"), doctest::Contains("sum to 0.6"));
  }
  SUBCASE("unknown kind, bad schedule") {
    config.kind = "bandit";
    CHECK_THROWS_WITH(make_mixture_policy(config, grid, 1000, 1), doctest::Contains("unknown kind"));
    config.kind = "birdie";
    config.evaluation_steps = {10, 10};
    CHECK_THROWS(make_mixture_policy(config, grid, 1000, 1));
    config.evaluation_steps = {10, 2000};
    CHECK_THROWS(make_mixture_policy(config, grid, 1000, 1));
  }
  SUBCASE("wrong loss-vector length and steps out of order") {
    auto policy = make_mixture_policy(config, grid, 1000, 1);
    CHECK_THROWS_WITH(policy->observe(10, std::vector<double>(6, 3.0)), doctest::Contains("6 validation losses"));
    policy->observe(10, std::vector<double>(7, 3.0));
    CHECK_THROWS_WITH(policy->observe(10, std::vector<double>(7, 3.0)), doctest::Contains("increase strictly"));
    CHECK_THROWS(policy->observe(1001, std::vector<double>(7, 3.0)));
  }
  SUBCASE("NaN losses: replaced, logged, the mixture stays valid") {
    config.uniform_fraction = 0.0;
    config.exploration = ExplorationSchedule{0, 0, 0, 0, 0, 0, 0.005};  // always the critic
    auto policy = make_mixture_policy(config, grid, 1000, 1);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> losses = {4, nan, 4, 4, 4, 4, 4};
    EvaluationRecord r = policy->observe(10, losses);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("prefix_lm") != std::string::npos);
    losses = {3.8, 3.8, nan, 3.8, 3.8, 3.8, std::numeric_limits<double>::infinity()};
    r = policy->observe(20, losses);
    CHECK(r.warnings.size() == 2);
    REQUIRE(r.rewards.size() == 7);
    CHECK(r.rewards[2] == 0.0);  // replaced by its previous loss: no change
    CHECK(r.rewards[0] > 0.0);
    for (double x : r.rewards) CHECK(std::isfinite(x));
    CHECK(r.decision == "critic");
    REQUIRE(r.critic_fit.has_value());
    CHECK(std::isfinite(r.critic_fit->last_mse));
    check_mixture(policy->current_mixture(), 7, "after NaN losses");
    // Nothing finite: the evaluation is ignored, the mixture kept, and the record says so.
    const std::vector<double> before = policy->current_mixture();
    r = policy->observe(30, std::vector<double>(7, nan));
    CHECK(r.decision == "unchanged");
    CHECK(r.history_rows == 1);
    CHECK(policy->current_mixture() == before);
    const auto line = nlohmann::json::parse(to_json_line(r, grid));
    CHECK(line["losses"]["next_token"].is_null());
    CHECK(line["warnings"].size() == 1);
  }
}

TEST_CASE("policy: a problem whose true reward favours one class") {
  // 10 evaluations every 100 steps of a 1000-step run; the first stays uniform, the next
  // three (steps 200-400) explore (ε = 1 while progress < 0.45), then ε = 0: the critic
  // alone decides. Exploration is shortened this way through MixturePolicyConfig.
  for (const std::uint64_t seed : {11, 23})
  for (const ObjectiveClass favoured : {ObjectiveClass::infilling, ObjectiveClass::prefix_lm}) {
    CAPTURE(seed);
    CAPTURE(objectives::class_name(favoured));
    const auto grid = testing::small_grid();
    MixturePolicyConfig config =
        testing::ten_evaluations_config(ExplorationSchedule{0.45, 0.45, 0.45, 1.0, 0.0, 0.0, 0.005});
    auto policy = make_mixture_policy(config, grid, 1000, seed);
    testing::SyntheticRun run(grid);
    const auto records = run_synthetic(*policy, run, [&](std::int64_t) { return favoured; });
    REQUIRE(records.size() == 10);
    CHECK(records[0].decision == "uniform_warmup");
    CHECK(records[1].decision == "explore");
    CHECK(records[9].decision == "critic");
    CHECK(records[9].critic_fit->last_mse < records[9].critic_fit->first_mse * 1.01);
    CHECK(testing::class_mass(records[9].mixture, grid, favoured) >= 0.5);
  }
}

TEST_CASE("policy: the best class changes halfway and the policy follows") {
  // 24 evaluations every 100 steps; infilling speeds training up to step 1200, copying
  // after. ε = 1 for the first 3 decisions, then a floor of 0.3 (the §4 floor is 0.2; the
  // run is short), so exploration keeps sampling the other classes.
  const auto grid = testing::small_grid();
  MixturePolicyConfig config = testing::fast_birdie_config();
  config.evaluation_steps = every(100, 2400);
  config.uniform_fraction = 0.06;
  config.exploration = ExplorationSchedule{0.17, 0.17, 0.17, 1.0, 0.3, 0.3, 0.005};
  // Following needs an exploration that picks copying after the switch: with ε = 0.3 and 1-2
  // of 4 classes per exploration, some seeds never explore copying within the 12
  // evaluations left, a limit of ε-greedy exploration rather than of the critic. So the
  // check is statistical: over 5 seeds, every run first settles on infilling, and a
  // majority then moves to copying.
  int followed = 0;
  for (const std::uint64_t seed : {5, 6, 7, 8, 9}) {
  CAPTURE(seed);
  auto policy = make_mixture_policy(config, grid, 2400, seed);
  testing::SyntheticRun run(grid);
  const auto records = run_synthetic(*policy, run, [](std::int64_t step) {
    return step <= 1200 ? ObjectiveClass::infilling : ObjectiveClass::copying;
  });
  REQUIRE(records.size() == 24);
  const auto last_critic_mass = [&](std::size_t end, ObjectiveClass c) {
    for (std::size_t e = end; e-- > 0;)
      if (records[e].decision == "critic") return testing::class_mass(records[e].mixture, grid, c);
    FAIL("no critic decision");
    return 0.0;
  };
  CHECK(last_critic_mass(12, ObjectiveClass::infilling) >= 0.5);
  const double copying = last_critic_mass(24, ObjectiveClass::copying);
  const double infilling = last_critic_mass(24, ObjectiveClass::infilling);
  MESSAGE("seed ", seed, ": after the switch copying ", copying, ", infilling ", infilling);
  followed += copying >= 0.5 && infilling < 0.25;
  }
  CHECK(followed >= 3);
}

TEST_CASE("policy: save/restore continues bitwise as if it had not stopped") {
  const auto grid = testing::small_grid();
  MixturePolicyConfig config =
      testing::ten_evaluations_config(ExplorationSchedule{0.3, 0.6, 0.8, 1.0, 0.5, 0.3, 0.005});
  const auto favoured = [](std::int64_t) { return ObjectiveClass::copying; };

  auto uninterrupted = make_mixture_policy(config, grid, 1000, 21);
  testing::SyntheticRun run_a(grid);
  const auto expected = run_synthetic(*uninterrupted, run_a, favoured);

  auto first = make_mixture_policy(config, grid, 1000, 21);
  testing::SyntheticRun run_b(grid);
  const auto head = run_synthetic(*first, run_b, favoured, 0, 5);
  model::TrainingState checkpoint;
  checkpoint.tensors.emplace_back("model.other", Tensor::zeros({2}, DType::f32));
  save_policy(*first, checkpoint);
  save_policy(*first, checkpoint);  // saving twice replaces, never duplicates
  CHECK(checkpoint.tensors.size() == 4);
  first.reset();

  auto resumed = make_mixture_policy(config, grid, 1000, 21);
  restore_policy(*resumed, checkpoint);
  const auto tail = run_synthetic(*resumed, run_b, favoured, 5);
  REQUIRE(head.size() + tail.size() == expected.size());
  std::size_t decisions_by_critic = 0, explorations = 0;
  for (std::size_t e = 0; e < expected.size(); ++e) {
    CAPTURE(e);
    const EvaluationRecord& got = e < 5 ? head[e] : tail[e - 5];
    CHECK(got.mixture == expected[e].mixture);  // bitwise
    CHECK(got.losses == expected[e].losses);
    CHECK(got.decision == expected[e].decision);
    if (got.critic_fit) CHECK(got.critic_fit->last_mse == expected[e].critic_fit->last_mse);
    decisions_by_critic += got.decision == "critic";
    explorations += got.explored;
  }
  CHECK(decisions_by_critic >= 1);  // both paths were exercised after the restore
  CHECK(explorations >= 1);
  PolicyState a, b;
  uninterrupted->save(a);
  resumed->save(b);
  CHECK(a.json == b.json);

  // A state from another run shape is refused.
  auto other = make_mixture_policy(config, grid, 2000, 21);
  CHECK_THROWS_WITH(restore_policy(*other, checkpoint), doctest::Contains("Fix: resume"));
  model::TrainingState no_bandit;
  CHECK_THROWS_WITH(restore_policy(*resumed, no_bandit), doctest::Contains("no 'bandit' section"));
}

TEST_CASE("evaluation record: one JSONL line with losses, rewards, mixture per configuration and class") {
  const auto grid = testing::small_grid();
  MixturePolicyConfig config =
      testing::ten_evaluations_config(ExplorationSchedule{1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.005});  // always explore
  auto policy = make_mixture_policy(config, grid, 1000, 3);
  testing::SyntheticRun run(grid);
  const auto records = run_synthetic(*policy, run, [](std::int64_t) { return ObjectiveClass::copying; }, 0, 2);
  const std::string line = to_json_line(records[1], policy->configurations());
  CHECK(line.find('\n') == std::string::npos);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["step"] == 200);
  CHECK(j["policy"] == "birdie");
  CHECK(j["explored"] == true);
  CHECK(j["decision"] == "explore");
  CHECK(j["losses"].size() == 7);
  CHECK(j["rewards"].size() == 7);
  CHECK(j["mixture"]["copying_l64_128"].is_number());
  double by_class = 0;
  for (const auto& [name, mass] : j["mixture_by_class"].items()) by_class += mass.get<double>();
  CHECK(by_class == doctest::Approx(1.0));
  CHECK(j["mixture_by_class"].size() == 4);
  CHECK(j["critic_fit"]["iterations"] == 200);
  CHECK(j["critic_fit"]["first_mse"].is_number());
  CHECK(j["critic_fit"]["last_mse"].is_number());
  CHECK(j["seconds"].get<double>() >= 0);
  CHECK(!nlohmann::json::parse(to_json_line(records[0], grid)).contains("rewards"));
}
