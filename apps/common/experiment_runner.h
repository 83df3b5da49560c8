// The experiment program's runs: every chosen arm-seed unit (experiment_units.h) taken
// through its steps (pretrain, evaluate with phonebook_eval, the validation loss per
// class), each a child process logging into the unit's folder, skipped when the unit's
// experiment_state.json says it is done; then the report (experiment_report.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/experiment_config.h"
#include "apps/common/experiment_report.h"
#include "apps/common/experiment_state.h"
#include "apps/common/experiment_units.h"
#include "engine/timer.h"

namespace birdie::apps {

class Experiment {
 public:
  Experiment(ExperimentConfig config, ExperimentOptions options);

  // Every arm's run configuration is read before anything runs: a bad key fails now.
  void check() const;

  void run();

  void report() const { write_experiment_report(c_, o_, units_); }

 private:
  std::vector<std::string> pretrain_overrides(const ExperimentUnit& unit) const;

  // Runs one step of a unit unless its state file says it is done; records its duration.
  template <class Work>
  void step(const ExperimentUnit& unit, ExperimentState& state, const std::string& kind, Work work);

  // Remaining time: every step not yet done, from the current one on, at the mean duration
  // of the finished steps of its kind.
  std::string eta_text(const ExperimentUnit& current, const std::string& kind) const;

  int run_program(const ExperimentUnit& unit, const std::string& program, const std::string& kind,
                  const std::vector<std::string>& arguments);

  int pretrain(const ExperimentUnit& unit);

  int evaluate(const ExperimentUnit& unit);

  // Validation loss per objective class (the mean over its configurations) and per
  // configuration (under "configurations", by class) over the whole grid, on evaluation.
  // validation_samples samples per configuration drawn with the evaluation seed: the same
  // samples for every arm, whatever its mixture.
  nlohmann::ordered_json class_validation(const ExperimentUnit& unit) const;

  ExperimentConfig c_;
  ExperimentOptions o_;
  std::vector<ExperimentUnit> units_;
  Stopwatch clock_;
};

}  // namespace birdie::apps
