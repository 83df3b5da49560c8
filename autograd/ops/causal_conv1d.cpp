// The short causal convolution with resets of a Hawk block (docs/method.md §5,
// kernels/conv1d.h).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"
#include "kernels/conv1d.h"

namespace birdie::autograd {

Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& reset,
                     kernels::ScanDirection direction) {
  BIRDIE_NVTX_RANGE("causal_conv1d");
  BIRDIE_CHECK(x.rank() == 3, "causal_conv1d: x must be [batch, time, channels], got ", x.describe());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::causal_conv1d_forward(x, weight, bias, reset, direction, y);
  if (needs_grad({&x, &weight, &bias})) {
    record("causal_conv1d", {x, weight, bias}, {y},
           [x, weight, bias, reset, direction](const std::vector<Tensor>& grads) {
             Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
             Tensor dweight = accumulation_target(weight);
             Tensor dbias = accumulation_target(bias);
             kernels::causal_conv1d_backward(x, weight, reset, direction, grads[0], dx, dweight, dbias);
             accumulate_fresh_grad(x, dx);
           });
  }
  return y;
}

}  // namespace birdie::autograd
