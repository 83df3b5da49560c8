#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

CrossEntropy cross_entropy(const Tensor& logits, const Tensor& targets) {
  BIRDIE_CHECK(logits.rank() == 2, "cross_entropy: logits must be [rows, vocab], got ",
               logits.describe());
  const bool grad = needs_grad({&logits});
  // bf16 logits give fp32 losses: the loss is what the bandit's rewards compare.
  const DType loss_dtype = logits.dtype() == DType::bf16 ? DType::f32 : logits.dtype();
  Tensor row_loss = Tensor::empty({logits.dim(0)}, loss_dtype, logits.device());
  Tensor dlogits;
  if (grad) dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  // The count is known before the pass (targets only), so the gradient of the mean comes
  // out of the same pass: dlogits is already scaled by 1 / counted.
  std::int64_t counted = 0;
  for (std::int32_t t : targets.to_vector<std::int32_t>()) counted += t != kernels::ignore_index;
  const double grad_scale = counted > 0 ? 1.0 / double(counted) : 0.0;
  kernels::cross_entropy_forward_backward(logits, targets, grad_scale, row_loss,
                                          grad ? &dlogits : nullptr);
  const double mean = counted > 0 ? kernels::sum(row_loss) / double(counted) : 0.0;
  Tensor loss = Tensor::full({1}, mean, loss_dtype, logits.device());
  if (grad) {
    record("cross_entropy", {logits}, {loss}, [logits, dlogits](const std::vector<Tensor>& grads) {
      // dlogits belongs to this node alone and the tape runs a node once: scale it in place
      // and hand it over.
      Tensor d = dlogits;
      const double upstream = grads[0].item();
      if (upstream != 1.0) kernels::scale_inplace(d, upstream);
      accumulate_fresh_grad(logits, d);
    });
  }
  return CrossEntropy{loss, row_loss, counted};
}

}  // namespace birdie::autograd
