// Checks of a run configuration that need more than its own file: training/run_config
// reads and checks the file alone (it builds without the objectives, for its fuzz harness);
// these read what the file names.
#pragma once

#include "training/run_config.h"

namespace birdie::training {

// objectives.class_floor against the grid: floor × the classes present must be at most 1.
// Throws naming the file, the key and the grid. pretrain and experiment call it before any
// step, as the reward-driven policy will check again when it starts.
void check_run_against_grid(const RunConfig& run);

}  // namespace birdie::training
