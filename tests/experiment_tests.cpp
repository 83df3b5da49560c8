// The experiment's pieces that need no training: steps-to-threshold on known learning
// curves, and the experiment file (custom arms, the fine-tuning keys). The program end to
// end is tests/experiment.sh.
#include <doctest/doctest.h>

#include <fstream>

#include "apps/common/experiment_config.h"
#include "apps/common/learning_curve.h"
#include "data/temporary_folder.h"

using namespace birdie;
using training::CurvePoint;

namespace {

std::vector<CurvePoint> curve(const std::vector<std::pair<int, double>>& points) {
  std::vector<CurvePoint> out;
  for (auto [step, accuracy] : points) out.push_back({step, 0.0, accuracy});
  return out;
}

// An experiment file in a temporary folder with `extra` appended; loaded with `overrides`.
struct ExperimentFile {
  data::testing::TemporaryFolder folder{"experiment_tests"};
  std::filesystem::path write(const std::string& extra) const {
    const std::filesystem::path path = folder.path / "experiment.toml";
    std::ofstream(path) << "[experiment]\noutput = \"out\"\nrun = \"run.toml\"\n" << extra;
    return path;
  }
  apps::ExperimentConfig load(const std::string& extra, const std::vector<std::string>& overrides = {}) const {
    return apps::load_experiment_config(write(extra), overrides);
  }
};

const std::string weights_file = std::string(BIRDIE_SOURCE_DIR) + "/configs/objectives/example_mixture.toml";

}  // namespace

TEST_CASE("steps to threshold: the first curve point at or above the level") {
  const auto crossing = curve({{0, 0.1}, {50, 0.3}, {100, 0.49}, {150, 0.5}, {200, 0.7}, {250, 0.4}});
  CHECK(apps::steps_to_threshold(crossing, 0.5) == 150);  // reaching it exactly counts
  CHECK(apps::steps_to_threshold(crossing, 0.6) == 200);  // the first crossing, whatever follows
  CHECK(apps::steps_to_threshold(crossing, 0.71) == std::nullopt);  // never: not reached
  CHECK(apps::steps_to_threshold(curve({{0, 0.55}, {50, 0.2}}), 0.5) == 0);  // at the first point
  CHECK(apps::steps_to_threshold({}, 0.5) == std::nullopt);
}

TEST_CASE("steps to threshold over seeds: mean and min-max only when every seed reached it") {
  apps::ThresholdSteps one;
  one.seeds = {{1, 150}};
  CHECK(one.text() == "150");
  CHECK(one.seeds_text() == "seed 1: 150");

  apps::ThresholdSteps all;
  all.seeds = {{1, 100}, {2, 200}, {3, 150}};
  CHECK(all.all_reached());
  CHECK(all.mean() == 150.0);
  CHECK(all.min() == 100);
  CHECK(all.max() == 200);
  CHECK(all.text() == "150 (100-200)");
  const auto j = all.json();
  CHECK(j["reached"] == 3);
  CHECK(j["of"] == 3);
  CHECK(j["mean"] == 150.0);
  CHECK(j["seeds"][1]["seed"] == 2);
  CHECK(j["seeds"][1]["step"] == 200);

  apps::ThresholdSteps uneven;
  uneven.seeds = {{1, 100}, {2, 100}, {3, 150}};
  CHECK(uneven.text() == "116.7 (100-150)");

  apps::ThresholdSteps some;
  some.seeds = {{1, 100}, {2, std::nullopt}, {3, 150}};
  CHECK(some.reached() == 2);
  CHECK(!some.mean().has_value());
  CHECK(!some.min().has_value());
  CHECK(some.text() == "not reached by 1 of 3 seeds");
  CHECK(some.seeds_text() == "seed 1: 100, seed 2: not reached, seed 3: 150");
  const auto k = some.json();
  CHECK(k["seeds"][1]["step"].is_null());
  CHECK(k["mean"].is_null());
  CHECK(k["min"].is_null());
  CHECK(k["max"].is_null());
  CHECK(k["reached"] == 2);

  apps::ThresholdSteps none;
  none.seeds = {{1, std::nullopt}};
  CHECK(none.text() == "not reached");
  CHECK(apps::ThresholdSteps{}.text() == "-");
}

TEST_CASE("experiment file: the fine-tuning curve's books and the threshold") {
  const ExperimentFile file;
  const auto defaults = file.load("arms = [\"birdie\"]\n");
  CHECK(defaults.threshold == 0.5);
  CHECK(defaults.curve_entries.empty());
  CHECK(defaults.curve_queries.empty());
  const auto set =
      file.load("arms = [\"birdie\"]\n[finetune]\nthreshold = 0.25\ncurve_entries = [1]\ncurve_queries = [1]\n");
  CHECK(set.threshold == 0.25);
  CHECK(set.curve_entries == std::vector<int>{1});
  CHECK(set.curve_queries == std::vector<int>{1});
  CHECK(file.load("arms = [\"birdie\"]\n", {"finetune.threshold=1"}).threshold == 1.0);
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\"]\n[finetune]\nthreshold = 0\n"),
                    doctest::Contains("finetune.threshold = 0 must be a digit accuracy in (0, 1]"));
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\"]\n", {"finetune.threshold=1.5"}),
                    doctest::Contains("finetune.threshold"));
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\"]\n", {"finetune.threshold=\"half\""}),
                    doctest::Contains("finetune.threshold must be a number"));
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\"]\n[finetune]\ncurve_entries = [0]\n"),
                    doctest::Contains("finetune.curve_entries holds 0"));
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\"]\n[finetune]\ncurve_queries = []\n"),
                    doctest::Contains("finetune.curve_queries must not be empty"));
}

TEST_CASE("experiment file: built-in arms and their overrides") {
  const ExperimentFile file;
  const auto c = file.load("arms = [\"birdie\", \"ntp\", \"scratch\"]\nset = [\"schedule.steps=10\"]\n");
  CHECK(apps::arm_overrides(c, "birdie") ==
        std::vector<std::string>{"objectives.mixture=\"birdie\"", "model.bidirectional=\"alternate\""});
  CHECK(apps::arm_overrides(c, "ntp") ==
        std::vector<std::string>{"objectives.mixture=\"ntp\"", "model.bidirectional=\"none\""});
  CHECK(apps::arm_pretrain_overrides(c, "birdie-causal") ==
        std::vector<std::string>{"objectives.mixture=\"birdie\"", "model.bidirectional=\"none\"", "schedule.steps=10"});
  CHECK(apps::arm_is_pretrained(c, "ntp"));
  CHECK(!apps::arm_is_pretrained(c, "scratch"));
  CHECK_THROWS_WITH(file.load("arms = [\"birdie\", \"gpt\"]\n"), doctest::Contains("unknown arm 'gpt'"));
}

TEST_CASE("experiment file: custom arms ([arms.NAME]) with a mixture, layers and their own overrides") {
  const ExperimentFile file;
  const std::string arms =
      "arms = [\"birdie\", \"birdie-floor\", \"retrieval\", \"birdie-floor@hawk\"]\n"
      "models = { hawk = \"hawk-run.toml\" }\n"
      "set = [\"schedule.steps=10\", \"objectives.class_floor=0\"]\n"
      "[arms.birdie-floor]\nmixture = \"birdie\"\nset = [\"objectives.class_floor=0.1\"]\n"
      "[arms.retrieval]\nmixture = \"" + weights_file + "\"\nbidirectional = \"none\"\n";
  const auto c = file.load(arms);
  REQUIRE(c.custom_arms.size() == 2);
  CHECK(c.custom_arms.at("birdie-floor").bidirectional == "alternate");  // the default
  CHECK(apps::arm_overrides(c, "birdie-floor") ==
        std::vector<std::string>{"objectives.mixture=\"birdie\"", "model.bidirectional=\"alternate\"",
                                 "objectives.class_floor=0.1"});
  // The arm's own settings come after experiment.set, so they win.
  CHECK(apps::arm_pretrain_overrides(c, "birdie-floor") ==
        std::vector<std::string>{"objectives.mixture=\"birdie\"", "model.bidirectional=\"alternate\"",
                                 "schedule.steps=10", "objectives.class_floor=0", "objectives.class_floor=0.1"});
  CHECK(apps::arm_overrides(c, "retrieval") ==
        std::vector<std::string>{"objectives.mixture=\"" + weights_file + "\"", "model.bidirectional=\"none\""});
  CHECK(apps::arm_is_pretrained(c, "retrieval"));
  // With @MODEL: the same settings, the model's run file.
  CHECK(apps::arm_overrides(c, "birdie-floor@hawk") == apps::arm_overrides(c, "birdie-floor"));
  CHECK(apps::arm_run_file(c, "birdie-floor@hawk") == "hawk-run.toml");
  // --set reaches into an arm's table.
  const auto changed = file.load(arms, {"arms.retrieval.bidirectional=\"all\"", "arms.extra.mixture=\"ul2\""});
  CHECK(changed.custom_arms.at("retrieval").bidirectional == "all");
  CHECK(changed.custom_arms.at("extra").mixture == "ul2");
}

TEST_CASE("experiment file: custom arms' mistakes are errors naming the arm and the key") {
  const ExperimentFile file;
  const auto refused = [&](const std::string& extra, const std::string& message) {
    CAPTURE(extra);
    CHECK_THROWS_WITH(file.load(extra), doctest::Contains(message.c_str()));
  };
  refused("arms = [\"mine\"]\n[arms.mine]\nmixture = \"birdie\"\nfloor = 0.1\n",
          "unknown key 'arms.mine.floor' (the keys of an arm are mixture, bidirectional and set)");
  refused("arms = [\"mine\"]\n[arms.mine]\nbidirectional = \"none\"\n", "arms.mine.mixture is required");
  refused("arms = [\"mine\"]\n[arms.mine]\nmixture = \"no/such/weights.toml\"\n",
          "arms.mine.mixture = \"no/such/weights.toml\" is neither birdie, ntp, ul2, uniform nor an existing");
  refused("arms = [\"mine\"]\n[arms.mine]\nmixture = \"birdie\"\nbidirectional = \"both\"\n",
          "arms.mine.bidirectional must be \"all\", \"alternate\" or \"none\"");
  refused("arms = [\"mine\"]\n[arms.mine]\nmixture = \"birdie\"\nset = \"objectives.class_floor=0.1\"\n",
          "arms.mine.set must be a list");
  refused("arms = [\"mine\"]\n[arms.mine]\nmixture = \"birdie\"\nset = [\"objectives.class_floor\"]\n",
          "arms.mine.set must be a list of \"section.key=value\" strings");
  refused("arms = [\"ntp\"]\n[arms.ntp]\nmixture = \"birdie\"\n", "'ntp' is a built-in arm");
  refused("arms = [\"birdie\"]\n[arms.\"a b\"]\nmixture = \"birdie\"\n", "use letters, digits, '-' and '_'");
  refused("arms = [\"birdie\"]\n[arms]\nmine = 3\n", "arms.mine must be a table");
  refused("arms = [\"other\"]\n[arms.mine]\nmixture = \"birdie\"\n",
          "unknown arm 'other'; the arms are birdie, birdie-causal, ntp, ul2, uniform, scratch, mine");
  refused("arms = [\"mine@gpt\"]\n[arms.mine]\nmixture = \"birdie\"\n",
          "names the model 'gpt', which experiment.models does not define");
}
