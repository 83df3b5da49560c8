#include "kernels/cross_entropy.h"

#include "kernels/cpu/cross_entropy.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

std::int64_t cross_entropy_forward_backward(const Tensor& logits, const Tensor& targets,
                                            double grad_scale, Tensor& row_loss,
                                            Tensor* dlogits) {
  require_same_device("cross_entropy", {&logits, &targets, &row_loss});
  BIRDIE_CHECK(logits.rank() == 2 && logits.dim(1) > 0,
               "cross_entropy: logits must be [rows, vocab], got ", logits.describe());
  check_shape(targets, {logits.dim(0)}, "cross_entropy targets");
  check_dtype(targets, DType::i32, "cross_entropy targets");
  check_shape(row_loss, {logits.dim(0)}, "cross_entropy row_loss");
  check_dtype(row_loss, logits.dtype(), "cross_entropy row_loss");
  if (dlogits) {
    require_same_device("cross_entropy", {&logits, dlogits});
    check_shape(*dlogits, logits.shape(), "cross_entropy dlogits");
    check_dtype(*dlogits, logits.dtype(), "cross_entropy dlogits");
  }
  if (logits.is_cpu())
    return cpu::cross_entropy_forward_backward(logits, targets, grad_scale, row_loss, dlogits);
  no_cuda_kernel("cross_entropy");
}

}  // namespace birdie::kernels
