// Resuming a run (--resume): the newest good checkpoint gives the weights, the optimizer's
// state, the policy's, the mixture in effect and the loader's position, so that the run
// goes on exactly (bitwise) as if it had never stopped. A damaged or incomplete newer
// checkpoint is named and set aside (step_N.damaged: kept, no longer counted by
// retention); none good: an error listing each one's problem (exit 2), and nothing is
// moved. No checkpoint yet: the run starts from step 0.
#pragma once

#include "training/run.h"

namespace birdie::training {

// Sets run.start_step to the step resumed from (0 when there is no checkpoint); every rank
// must continue from the same step (checked).
void resume_from_checkpoint(Run& run);

}  // namespace birdie::training
