// The RG-LRU scan of a Hawk block with its gates fused (docs/method.md §5, kernels/rglru.h).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"
#include "kernels/rglru.h"

namespace birdie::autograd {

Tensor rglru_scan(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                  kernels::ScanDirection direction) {
  BIRDIE_NVTX_RANGE("rglru_scan");
  Tensor y = empty_like(x);
  Tensor saved = kernels::rglru_scan_forward(x, gates, lambda, reset, direction, y);
  if (needs_grad({&x, &gates, &lambda})) {
    record("rglru_scan", {x, gates, lambda}, {y},
           [x, gates, lambda, reset, direction, saved](const std::vector<Tensor>& grads) {
             Tensor dx = empty_like(x), dgates = empty_like(gates);
             Tensor dlambda = accumulation_target(lambda);
             kernels::rglru_scan_backward(x, gates, lambda, reset, direction, saved, grads[0], dx, dgates, dlambda);
             accumulate_fresh_grad(x, dx);
             accumulate_fresh_grad(gates, dgates);
           });
  }
  return y;
}

}  // namespace birdie::autograd
