#include "autograd/ops.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"

namespace birdie::autograd {

Tensor gated_scan(const Tensor& proj, const Tensor& reset, kernels::ScanDirection direction) {
  BIRDIE_NVTX_RANGE("gated_scan");
  BIRDIE_CHECK(proj.rank() == 3, "gated_scan: proj must be [batch, time, 4·state], got ",
               proj.describe());
  Tensor y = Tensor::empty({proj.dim(0), proj.dim(1), proj.dim(2) / 4}, proj.dtype(),
                           proj.device());
  Tensor saved = kernels::gated_scan_forward(proj, reset, direction, y);
  if (needs_grad({&proj})) {
    record("gated_scan", {proj}, {y},
           [proj, reset, direction, saved](const std::vector<Tensor>& grads) {
             Tensor dproj = Tensor::empty(proj.shape(), proj.dtype(), proj.device());
             kernels::gated_scan_backward(proj, reset, direction, saved, grads[0], dproj);
             accumulate_fresh_grad(proj, dproj);
           });
  }
  return y;
}

}  // namespace birdie::autograd
