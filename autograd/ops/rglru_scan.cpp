// The RG-LRU scan of a Hawk block with its gates fused (docs/method.md §5, kernels/rglru.h).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"
#include "kernels/rglru.h"

namespace birdie::autograd {

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
