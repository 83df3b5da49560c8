#include "kernels/rmsnorm.h"

#include "kernels/cpu/rmsnorm.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

namespace {
void check_norm_operands(const char* op, const Tensor& x, const Tensor& weight,
                         const Tensor& inv_rms) {
  BIRDIE_CHECK(x.rank() >= 1 && x.dim(-1) > 0, op, ": x must have a last dimension, got ",
               x.describe());
  check_shape(weight, {x.dim(-1)}, op);
  check_dtype(weight, x.dtype(), op);
  check_shape(inv_rms, {x.numel() / x.dim(-1)}, op);
  check_dtype(inv_rms, x.dtype(), op);
}
}  // namespace

void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms) {
  require_same_device("rmsnorm_forward", {&x, &weight, &y, &inv_rms});
  check_norm_operands("rmsnorm_forward", x, weight, inv_rms);
  check_shape(y, x.shape(), "rmsnorm_forward output");
  check_dtype(y, x.dtype(), "rmsnorm_forward output");
  if (x.is_cpu()) return cpu::rmsnorm_forward(x, weight, eps, y, inv_rms);
  no_cuda_kernel("rmsnorm_forward");
}

void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight) {
  require_same_device("rmsnorm_backward", {&x, &weight, &inv_rms, &dy, &dx, &dweight});
  check_norm_operands("rmsnorm_backward", x, weight, inv_rms);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dy, &dx}) {
    check_shape(*t, x.shape(), "rmsnorm_backward");
    check_dtype(*t, x.dtype(), "rmsnorm_backward");
  }
  check_shape(dweight, weight.shape(), "rmsnorm_backward dweight");
  check_dtype(dweight, x.dtype(), "rmsnorm_backward dweight");
  if (x.is_cpu()) return cpu::rmsnorm_backward(x, weight, inv_rms, dy, dx, dweight);
  no_cuda_kernel("rmsnorm_backward");
}

}  // namespace birdie::kernels
