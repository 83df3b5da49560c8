// The training loop of a run set up by set_up_run (run_setup.h): from the step after
// run.start_step to schedule.steps, each step's batches from the loader, the step itself
// (trainer.h), its record (step_log.h), the evaluations (run_evaluation.h), and a
// checkpoint (run_checkpoint.h) every schedule.checkpoint_every steps, at the end, on
// SIGINT/SIGTERM and after --stop-after-steps.
#pragma once

#include <cstdint>

#include "training/run.h"

namespace birdie::training {

// The exit code: 0 done (or stopped after stop_after_steps, > 0, steps of this
// invocation), 3 stopped after schedule.max_bad_steps non-finite steps in a row, 130
// stopped by a signal after writing a checkpoint.
int train(Run& run, std::int64_t stop_after_steps);

}  // namespace birdie::training
