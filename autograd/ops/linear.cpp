#include "autograd/ops.h"

namespace birdie::autograd {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  BIRDIE_CHECK(weight.rank() == 2 && x.rank() >= 1 && x.dim(-1) == weight.dim(1),
               "linear: input ", x.describe(), " does not match weight ", weight.describe(),
               " (expected [out, in] with in = the input's last dimension)");
  Shape out_shape = x.shape();
  out_shape.back() = weight.dim(0);
  Tensor y = matmul(reshape(x, {-1, x.dim(-1)}), weight, false, true);
  if (bias.defined()) y = add(y, bias);
  return reshape(y, out_shape);
}

}  // namespace birdie::autograd
