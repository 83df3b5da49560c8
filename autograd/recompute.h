// Activation recompute ("gradient checkpointing"): run a function without keeping its
// intermediate results, and run it again during the backward pass to get them back.
// Trades one extra forward pass of the function for the memory of everything it would
// have saved: with one recompute per block, only each block's input stays alive.
#pragma once

#include <functional>
#include <vector>

#include "engine/tensor.h"

namespace birdie::autograd {

using RecomputedFunction = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// y = fn(inputs), recording a single node. fn must be deterministic (it runs twice) and
// may read parameters (leaves) besides `inputs`: their gradients accumulate as usual.
Tensor recompute(const RecomputedFunction& fn, const std::vector<Tensor>& inputs);

}  // namespace birdie::autograd
