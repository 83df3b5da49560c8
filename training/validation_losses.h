// The validation losses of §4: L[i] = mean cross-entropy over validation set i's label
// tokens, for every configuration of the grid at every evaluation.
#pragma once

#include <vector>

#include "model/language_model.h"
#include "objectives/validation_set.h"

namespace birdie::training {

// Every set's rows go through the model in forward passes of `rows_per_pass` rows (rows
// of several sets share a pass: a set is 1-8 rows, and a pass per set would leave a GPU
// waiting on launches and a CPU on small products); each token's loss is kept on the
// device and read back once, and the sums per set are taken on the host in f64, in row
// order. No gradients are recorded. A set without label tokens gives NaN.
//
// Data parallel: each rank computes every world-size-th set and the losses are gathered,
// so every rank returns all of them, the same bits (a set's loss comes from one rank).
std::vector<double> validation_losses(const model::LanguageModel& lm,
                                      const std::vector<objectives::ValidationSet>& sets, int rows_per_pass);

}  // namespace birdie::training
