// training/validation_losses: every configuration's validation sets in shared forward
// passes give each set's own mean loss, whatever the rows per pass.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "training/validation_losses.h"
#include "autograd/tape.h"
#include "data/token_source.h"
#include "engine/random.h"
#include "objectives/batch_tensors.h"
#include "objectives/objective_grid.h"

using namespace birdie;

namespace {

// Each set's loss on its own, as one forward pass over its rows.
double set_loss(const model::LanguageModel& lm, const objectives::ValidationSet& set) {
  autograd::NoGradGuard no_grad;
  const objectives::BatchTensors t = objectives::to_tensors(set.rows);
  return lm.loss(t.tokens, t.targets, t.reset).loss.item();
}

}  // namespace

TEST_CASE("validation losses: shared passes give each set's own mean, for any rows per pass") {
  const model::ModelConfig config{300, 16, 24, 2};
  const auto lm = model::make_language_model(config, DType::f32, Device::cpu, 3);
  RandomGenerator rng(5);
  std::vector<data::Token> text(20000);
  for (auto& t : text) t = static_cast<data::Token>(8 + rng.uniform_int(std::uint64_t(config.vocab - 8)));
  const data::VectorTokenSource source(std::move(text));
  const objectives::ObjectiveGrid grid = objectives::load_objective_grid(objectives::default_grid_path());
  // A spread of the grid's classes, three samples each (several rows per set).
  std::vector<objectives::ObjectiveConfig> configs;
  for (std::size_t i = 0; i < grid.configs.size(); i += 9) configs.push_back(grid.configs[i]);
  auto sets = objectives::build_validation_sets(source, configs, 64, 16, 3, 9);
  // A set without label tokens (its targets all ignored) gives NaN and changes no other.
  for (auto& target : sets[1].rows.targets) target = objectives::ignore_target;

  std::vector<double> expected;
  for (const auto& set : sets) expected.push_back(set_loss(*lm, set));
  const std::vector<double> one = training::validation_losses(*lm, sets, 1);
  for (int rows : {1, 2, 5, 1000}) {
    CAPTURE(rows);
    const std::vector<double> losses = training::validation_losses(*lm, sets, rows);
    REQUIRE(losses.size() == sets.size());
    for (std::size_t i = 0; i < sets.size(); ++i) {
      CAPTURE(i);
      if (i == 1) {
        CHECK(std::isnan(losses[i]));
        continue;
      }
      CHECK(std::isfinite(losses[i]));
      CHECK(losses[i] == doctest::Approx(expected[i]).epsilon(1e-5));
      CHECK(losses[i] == doctest::Approx(one[i]).epsilon(1e-6));
    }
  }
  // The sets are told apart: two configurations' losses differ.
  CHECK(expected[0] != expected[2]);
  CHECK_THROWS(training::validation_losses(*lm, sets, 0));
}
