#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "bandit/class_floor.h"
#include "bandit/evaluation_record.h"
#include "bandit/policy_checkpoint.h"
#include "bandit/reward_driven_policy.h"
#include "bandit_test_util.h"

using namespace birdie;
using namespace birdie::bandit;
using birdie::objectives::ObjectiveClass;

namespace {

// 4 classes: {0}, {1, 2}, {3, 4, 5}, {6}; the ids of the classes are their indices here.
const std::vector<std::vector<std::size_t>> four_classes = {{0}, {1, 2}, {3, 4, 5}, {6}};

double mass(const std::vector<double>& w, const std::vector<std::size_t>& members) {
  double m = 0;
  for (std::size_t i : members) m += w[i];
  return m;
}

double total(const std::vector<double>& w) {
  double t = 0;
  for (double x : w) t += x;
  return t;
}

}  // namespace

using testing::every;
using testing::run_synthetic;

TEST_CASE("class floor: classes under the floor are raised to it, proportions kept, the sum 1") {
  // Class shares 0.02, 0.08, 0.6, 0.3 against a floor of 0.1.
  const std::vector<double> w = {0.02, 0.06, 0.02, 0.1, 0.2, 0.3, 0.3};
  std::vector<std::size_t> raised;
  const std::vector<double> f = apply_class_floor(w, four_classes, 0.1, &raised);
  CHECK(raised == std::vector<std::size_t>{0, 1});
  CHECK(mass(f, four_classes[0]) == doctest::Approx(0.1).epsilon(1e-14));
  CHECK(mass(f, four_classes[1]) == doctest::Approx(0.1).epsilon(1e-14));
  CHECK(total(f) == doctest::Approx(1.0).epsilon(1e-14));
  // Within a raised class: 3 : 1 as before.
  CHECK(f[1] / f[2] == doctest::Approx(3.0).epsilon(1e-14));
  // The classes above the floor share the rest (0.8) in their old proportions (0.6 : 0.3),
  // and keep their own within-class proportions.
  CHECK(mass(f, four_classes[2]) == doctest::Approx(0.8 * 0.6 / 0.9).epsilon(1e-14));
  CHECK(mass(f, four_classes[3]) == doctest::Approx(0.8 * 0.3 / 0.9).epsilon(1e-14));
  CHECK(f[3] / f[5] == doctest::Approx(1.0 / 3.0).epsilon(1e-14));
  CHECK(f[4] / f[5] == doctest::Approx(2.0 / 3.0).epsilon(1e-14));
}

TEST_CASE("class floor: a class without weight gets the floor evenly; scaling down may raise another") {
  // Shares 0, 0.3 (class 1), 0.7 (class 2) with a floor of 0.3: class 0 is raised, which
  // scales class 1 down to 0.21 < 0.3, so class 1 is raised too; class 2 keeps the rest.
  const std::vector<std::vector<std::size_t>> classes = {{0, 1}, {2}, {3, 4}};
  const std::vector<double> w = {0.0, 0.0, 0.3, 0.35, 0.35};
  std::vector<std::size_t> raised;
  const std::vector<double> f = apply_class_floor(w, classes, 0.3, &raised);
  CHECK(raised == std::vector<std::size_t>{0, 1});
  CHECK(f[0] == doctest::Approx(0.15));
  CHECK(f[1] == doctest::Approx(0.15));
  CHECK(f[2] == doctest::Approx(0.3));
  CHECK(f[3] == doctest::Approx(0.2));
  CHECK(f[4] == doctest::Approx(0.2));
  CHECK(total(f) == doctest::Approx(1.0).epsilon(1e-14));
  // Weights that do not sum to 1 are read as proportions.
  const std::vector<double> doubled = {0.0, 0.0, 0.6, 0.7, 0.7};
  const std::vector<double> g = apply_class_floor(doubled, classes, 0.3);
  for (std::size_t i = 0; i < f.size(); ++i) CHECK(g[i] == doctest::Approx(f[i]).epsilon(1e-14));
  // floor × classes = 1: every class gets exactly the floor.
  const std::vector<double> h = apply_class_floor(w, classes, 1.0 / 3.0);
  for (const auto& members : classes) CHECK(mass(h, members) == doctest::Approx(1.0 / 3.0).epsilon(1e-14));
}

TEST_CASE("class floor: 0 or a mixture already above the floor changes nothing; applying twice is once") {
  const std::vector<double> w = {0.001, 0.3, 0.2, 0.1, 0.1, 0.1, 0.199};
  std::vector<std::size_t> raised{99};
  CHECK(apply_class_floor(w, four_classes, 0.0, &raised) == w);  // bitwise
  CHECK(raised.empty());
  const std::vector<double> above = {0.15, 0.1, 0.1, 0.2, 0.1, 0.1, 0.25};
  CHECK(apply_class_floor(above, four_classes, 0.14, &raised) == above);
  CHECK(raised.empty());
  const std::vector<double> once = apply_class_floor(w, four_classes, 0.2);
  const std::vector<double> twice = apply_class_floor(once, four_classes, 0.2);
  for (std::size_t i = 0; i < w.size(); ++i) CHECK(twice[i] == doctest::Approx(once[i]).epsilon(1e-14));
  // The uniform mixture meets any valid floor.
  const auto grid = testing::small_grid();
  const std::vector<double> uniform = objectives::uniform_mixture(grid).weights;
  CHECK(apply_class_floor(uniform, grid.indices_by_class(), 0.2) == uniform);
}

TEST_CASE("class floor: bad values are refused, naming the key") {
  CHECK_NOTHROW(check_class_floor(0.0, 7, "objectives.class_floor", "run.toml"));
  CHECK_NOTHROW(check_class_floor(1.0 / 7.0, 7, "objectives.class_floor", "run.toml"));
  CHECK_THROWS_WITH(check_class_floor(-0.01, 7, "objectives.class_floor", "run.toml"),
                    doctest::Contains("objectives.class_floor = -0.01 must be a share ≥ 0"));
  CHECK_THROWS_WITH(check_class_floor(std::nan(""), 7, "objectives.class_floor", "run.toml"),
                    doctest::Contains("objectives.class_floor"));
  CHECK_THROWS_WITH(check_class_floor(0.2, 7, "objectives.class_floor", "run.toml"),
                    doctest::Contains("floor × classes must be ≤ 1"));
  CHECK_THROWS_WITH(apply_class_floor({0.5, 0.5, 0, 0, 0, 0, 0}, four_classes, 0.3), doctest::Contains("≤ 1"));
  CHECK_THROWS_WITH(apply_class_floor({0, 0, 0, 0, 0, 0, 0}, four_classes, 0.1), doctest::Contains("sum to 0"));
  CHECK_THROWS_WITH(apply_class_floor({-1, 1, 1, 0, 0, 0, 0}, four_classes, 0.1), doctest::Contains("non-negative"));
}

TEST_CASE("policy with a class floor: every mixture it hands out respects the floor") {
  // The favoured-class problem drives the critic to ≥ 0.5 on infilling (policy_tests.cpp);
  // with a floor of 0.1 every class keeps at least 0.1 of every mixture, explorations included.
  const auto grid = testing::small_grid();
  const auto classes = grid.indices_by_class();
  MixturePolicyConfig config =
      testing::ten_evaluations_config(ExplorationSchedule{0.3, 0.6, 0.8, 1.0, 0.5, 0.3, 0.005});
  const auto run_policy = [&](double floor) {
    config.class_floor = floor;
    auto policy = make_mixture_policy(config, grid, 1000, 11);
    testing::SyntheticRun run(grid);
    return run_synthetic(*policy, run, [](std::int64_t) { return ObjectiveClass::infilling; });
  };
  const auto floored = run_policy(0.1);
  const auto unfloored = run_policy(0.0);
  double lowest_free = 1, lowest_floored = 1;
  std::size_t critic = 0, explored = 0, raised = 0;
  for (const auto& r : floored) {
    CAPTURE(r.step);
    CHECK(total(r.mixture) == doctest::Approx(1.0).epsilon(1e-12));
    for (const auto& members : classes)
      if (!members.empty()) lowest_floored = std::min(lowest_floored, mass(r.mixture, members));
    CHECK(r.class_floor == 0.1);
    critic += r.decision == "critic";
    explored += r.explored;
    raised += !r.floor_raised_classes.empty();
  }
  for (const auto& r : unfloored)
    for (const auto& members : classes)
      if (!members.empty()) lowest_free = std::min(lowest_free, mass(r.mixture, members));
  CHECK(lowest_floored >= 0.1 - 1e-12);
  CHECK(lowest_free < 0.1);  // without the floor some class fell under it
  CHECK(critic >= 1);
  CHECK(explored >= 1);
  CHECK(raised >= 1);
  for (std::size_t e = floored.size(); e-- > 0;)  // the critic still favours infilling
    if (floored[e].decision == "critic") {
      CHECK(testing::class_mass(floored[e].mixture, grid, ObjectiveClass::infilling) >= 0.4);
      break;
    }

  const auto line = nlohmann::json::parse(to_json_line(floored.back(), grid.configs));
  CHECK(line["class_floor"] == 0.1);
  CHECK(line["floor_raised_classes"].is_array());
  CHECK(!nlohmann::json::parse(to_json_line(unfloored.back(), grid.configs)).contains("class_floor"));
}

TEST_CASE("policy with a class floor: save/restore continues bitwise; bad floors are refused") {
  const auto grid = testing::small_grid();
  MixturePolicyConfig config =
      testing::ten_evaluations_config(ExplorationSchedule{0.3, 0.6, 0.8, 1.0, 0.5, 0.3, 0.005});
  config.class_floor = 0.05;
  const auto step_through = [&](MixturePolicy& policy, testing::SyntheticRun& run, std::size_t from, std::size_t to) {
    std::vector<std::vector<double>> mixtures;
    const auto favoured = [](std::int64_t) { return ObjectiveClass::copying; };
    for (const auto& record : run_synthetic(policy, run, favoured, from, to - from)) mixtures.push_back(record.mixture);
    return mixtures;
  };
  auto uninterrupted = make_mixture_policy(config, grid, 1000, 4);
  testing::SyntheticRun run_a(grid), run_b(grid);
  const auto expected = step_through(*uninterrupted, run_a, 0, 10);
  auto first = make_mixture_policy(config, grid, 1000, 4);
  auto got = step_through(*first, run_b, 0, 6);
  model::TrainingState checkpoint;
  save_policy(*first, checkpoint);
  auto resumed = make_mixture_policy(config, grid, 1000, 4);
  restore_policy(*resumed, checkpoint);
  const auto tail = step_through(*resumed, run_b, 6, 10);
  got.insert(got.end(), tail.begin(), tail.end());
  CHECK(got == expected);  // bitwise

  // Resuming with another floor is refused; so are floors the grid cannot hold and a floor
  // on a fixed mixture.
  MixturePolicyConfig other = config;
  other.class_floor = 0;
  auto unfloored = make_mixture_policy(other, grid, 1000, 4);
  CHECK_THROWS_WITH(restore_policy(*unfloored, checkpoint), doctest::Contains("objectives.class_floor"));
  other.class_floor = 0.3;  // 4 classes
  CHECK_THROWS_WITH(make_mixture_policy(other, grid, 1000, 4), doctest::Contains("objectives.class_floor = 0.3"));
  other.class_floor = -0.1;
  CHECK_THROWS_WITH(make_mixture_policy(other, grid, 1000, 4), doctest::Contains("objectives.class_floor"));
  other.class_floor = 0.1;
  other.kind = "uniform";
  CHECK_THROWS_WITH(make_mixture_policy(other, grid, 1000, 4), doctest::Contains("reward-driven mixture only"));
}
