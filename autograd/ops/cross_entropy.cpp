#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

CrossEntropy cross_entropy(const Tensor& logits, const Tensor& targets,
                           const CrossEntropyOptions& options) {
  BIRDIE_CHECK(logits.rank() == 2, "cross_entropy: logits must be [rows, vocab], got ",
               logits.describe());
  const bool grad = needs_grad({&logits});
  // bf16 logits give fp32 losses: the loss is what the bandit's rewards compare.
  const DType loss_dtype = logits.dtype() == DType::bf16 ? DType::f32 : logits.dtype();
  Tensor row_loss = Tensor::empty({logits.dim(0)}, loss_dtype, logits.device());
  Tensor dlogits;
  if (grad) dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  // The count is known before the pass (targets only), so the gradient of the weighted mean
  // comes out of the same pass: dlogits is already scaled by weight / counted.
  const std::int64_t counted =
      options.counted >= 0 ? options.counted : kernels::count_targets(targets, logits.dim(1));
  const double scale = counted > 0 ? options.weight / double(counted) : 0.0;
  kernels::cross_entropy_forward_backward(logits, targets, scale, row_loss, grad ? &dlogits : nullptr);
  Tensor loss = Tensor::empty({1}, loss_dtype, logits.device());
  kernels::sum_into(row_loss, scale, loss);
  if (grad) {
    record("cross_entropy", {logits}, {loss}, [logits, dlogits](const std::vector<Tensor>& grads) {
      // dlogits belongs to this node alone and the tape runs a node once: scale it in place
      // (unless the upstream gradient is backward's seed of ones) and hand it over.
      Tensor d = dlogits;
      if (!is_backward_seed(grads[0])) kernels::scale_inplace(d, grads[0]);
      accumulate_fresh_grad(logits, d);
    });
  }
  return CrossEntropy{loss, row_loss, counted};
}

}  // namespace birdie::autograd
