// The two ops of a Hawk block (BIRDIE.md §5): the short causal convolution with resets
// (kernels/conv1d.h) and the RG-LRU scan with its gates fused (kernels/rglru.h).
#include "autograd/ops.h"
#include "autograd/ops/grad_buffer.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"
#include "kernels/conv1d.h"
#include "kernels/rglru.h"

namespace birdie::autograd {

namespace {
// The gradient of a parameter, accumulated into in place; a throwaway zero tensor when the
// parameter takes no gradient (the kernel writes the other gradients all the same).
Tensor accumulation_target(const Tensor& parameter) {
  Tensor g = grad_buffer(parameter);
  return g.defined() ? g : Tensor::zeros(parameter.shape(), parameter.dtype(), parameter.device());
}
}  // namespace

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

Tensor rglru_scan(const Tensor& proj, const Tensor& lambda, const Tensor& reset,
                  kernels::ScanDirection direction) {
  BIRDIE_NVTX_RANGE("rglru_scan");
  BIRDIE_CHECK(proj.rank() == 3, "rglru_scan: proj must be [batch, time, 3·channels], got ",
               proj.describe());
  Tensor y = Tensor::empty({proj.dim(0), proj.dim(1), proj.dim(2) / 3}, proj.dtype(), proj.device());
  Tensor saved = kernels::rglru_scan_forward(proj, lambda, reset, direction, y);
  if (needs_grad({&proj, &lambda})) {
    record("rglru_scan", {proj, lambda}, {y},
           [proj, lambda, reset, direction, saved](const std::vector<Tensor>& grads) {
             Tensor dproj = Tensor::empty(proj.shape(), proj.dtype(), proj.device());
             Tensor dlambda = accumulation_target(lambda);
             kernels::rglru_scan_backward(proj, lambda, reset, direction, saved, grads[0], dproj, dlambda);
             accumulate_fresh_grad(proj, dproj);
           });
  }
  return y;
}

}  // namespace birdie::autograd
