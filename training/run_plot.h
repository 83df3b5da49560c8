// The run's plot.svg: the training and validation losses, and the mixture's class
// probabilities at each evaluation, read back from metrics.jsonl and evaluations.jsonl.
#pragma once

#include "training/run.h"

namespace birdie::training {

void write_run_plot(const Run& run);

}  // namespace birdie::training
