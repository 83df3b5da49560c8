// A run's checkpoint: the weights, the optimizer's state, the policy's (with a mixture
// waiting for its effect step), the loader's position and the step, everything a resumed
// run needs to go on bitwise (resume.h). Written by rank 0 alone, under
// <output>/checkpoints/step_N, keeping the newest schedule.keep_checkpoints.
#pragma once

#include <cstdint>
#include <optional>

#include "objectives/batch_loader.h"
#include "training/run.h"

namespace birdie::training {

// Every rank takes part (a sharded optimizer's state is gathered to rank 0). Refuses to
// write parameters that are not finite. `position`: the loader's position to record when
// it is not the loader's own (a step whose batches failed to load, training_loop.cpp).
void save_checkpoint(Run& run, std::int64_t step,
                     const std::optional<objectives::LoaderPosition>& position = std::nullopt);

// --init-only: the initialized model as checkpoint 0 (an untrained baseline that is still
// an ordinary run folder, the experiment's "scratch" arm), unless the run already has one.
void save_initial_checkpoint(Run& run);

}  // namespace birdie::training
