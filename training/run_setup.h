// Setting up a run: reads and checks its configuration, takes its folder, builds the
// policy, the validation sets, the model, the optimizer and the loader, resumes from the
// newest good checkpoint when asked (resume.h), opens the logs, and writes the effective
// configuration and the tokenizer into the run folder. Any problem is found here, before
// the first step.
#pragma once

#include "training/run.h"

namespace birdie::training {

Run set_up_run(const RunOptions& options);

}  // namespace birdie::training
