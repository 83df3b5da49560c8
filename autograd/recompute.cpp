#include "autograd/recompute.h"

#include "autograd/tape.h"

namespace birdie::autograd {

Tensor recompute(const RecomputedFunction& fn, const std::vector<Tensor>& inputs) {
  Tensor y;
  {
    NoGradGuard no_grad;  // nothing inside fn is kept
    y = fn(inputs);
  }
  // Parameters read inside fn may need gradients even when no input does: record
  // whenever recording is on.
  if (!grad_enabled()) return y;
  record("recompute", inputs, {y}, [fn, inputs](const std::vector<Tensor>& grads) {
    // Fresh leaves over the same storage stand in for the inputs, so the nested pass
    // yields their gradients without touching the outer graph.
    std::vector<Tensor> leaves;
    for (const Tensor& input : inputs) {
      Tensor leaf = input.reshape(input.shape());
      leaf.set_requires_grad(input.requires_grad());
      leaves.push_back(leaf);
    }
    TapeScope nested;
    EnableGradGuard recording;
    Tensor again = fn(leaves);
    if (again.requires_grad()) backward(again, grads[0]);
    for (std::size_t k = 0; k < inputs.size(); ++k)
      if (leaves[k].grad().defined()) accumulate_fresh_grad(inputs[k], leaves[k].grad());
  });
  return y;
}

}  // namespace birdie::autograd
