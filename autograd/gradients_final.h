// Where, in the backward pass, a part of the parameters' gradient is final: what lets a
// data-parallel step sum the last blocks' gradients over the ranks while the backward pass
// is still working on the first blocks (autograd/adamw.h's bucketed reduction).
//
// The tape knows nothing of blocks, and a recomputed block hides its parameters inside
// one node, so the model says it: it passes a block's input through
// mark_gradients_final(x, range), an identity recorded just before the block's first op.
// The backward walk reaches that node after every node recorded later, so when its rule
// runs, the gradients of parameters used only by later ops — the block's — are complete.
#pragma once

#include <cstdint>
#include <functional>

#include "autograd/parameters.h"
#include "engine/tensor.h"

namespace birdie::autograd {

// Returns x (a view, no copy). When the backward pass reaches it, this thread's
// GradientsFinalListener, if any, is told that `range` is final: valid when the
// parameters in `range` are used only by ops recorded after this call.
Tensor mark_gradients_final(const Tensor& x, ParameterRange range);

// Receives the marks of the backward passes run on this thread while it lives (one at a
// time; the last backward pass of a step, not the earlier micro-batches').
class GradientsFinalListener {
 public:
  explicit GradientsFinalListener(std::function<void(ParameterRange)> on_final);
  ~GradientsFinalListener();
  GradientsFinalListener(const GradientsFinalListener&) = delete;
  GradientsFinalListener& operator=(const GradientsFinalListener&) = delete;

 private:
  std::function<void(ParameterRange)> on_final_;
  GradientsFinalListener* previous_;
  friend Tensor mark_gradients_final(const Tensor&, ParameterRange);
};

}  // namespace birdie::autograd
