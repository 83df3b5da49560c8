// A packed batch as engine tensors: CPU i32 [rows, L] each, ready to be copied to the
// device (the model reads tokens and reset, the loss reads targets, per-objective losses
// read objective; segment is for checks and analysis).
#pragma once

#include "engine/tensor.h"
#include "objectives/packed_batch.h"

namespace birdie::objectives {

struct BatchTensors {
  Tensor tokens, targets, segment, reset, objective;
};

BatchTensors to_tensors(const PackedBatch& batch);

}  // namespace birdie::objectives
