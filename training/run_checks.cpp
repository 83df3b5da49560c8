#include "training/run_checks.h"

#include "bandit/class_floor.h"
#include "objectives/objective_grid.h"

namespace birdie::training {

void check_run_against_grid(const RunConfig& run) {
  if (run.class_floor <= 0) return;
  bandit::check_class_floor(run.class_floor,
                            bandit::classes_present(objectives::load_objective_grid(run.grid).indices_by_class()),
                            "objectives.class_floor", run.source.string() + " (grid " + run.grid.string() + ")");
}

}  // namespace birdie::training
