// The RG-LRU scan of a Hawk block with its gates fused (docs/method.md §5, kernels/rglru.h).
#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"
#include "kernels/rglru.h"

namespace birdie::autograd {

Tensor rglru_scan(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                  kernels::ScanDirection direction, const Tensor& out_gate) {
  BIRDIE_NVTX_RANGE("rglru_scan");
  Tensor y = empty_like(x);
  Tensor saved = kernels::rglru_scan_forward(x, gates, lambda, reset, direction, y, {out_gate, {}});
  if (needs_grad({&x, &gates, &lambda, &out_gate})) {
    std::vector<Tensor> inputs{x, gates, lambda};
    if (out_gate.defined()) inputs.push_back(out_gate);
    record("rglru_scan", std::move(inputs), {y},
           [x, gates, lambda, reset, direction, saved, out_gate](const std::vector<Tensor>& grads) {
             Tensor dx = empty_like(x), dgates = empty_like(gates);
             const Tensor dout_gate = out_gate.defined() ? empty_like(out_gate) : Tensor();
             Tensor dlambda = accumulation_target(lambda);
             kernels::rglru_scan_backward(x, gates, lambda, reset, direction, saved, grads[0], dx, dgates, dlambda,
                                          {out_gate, dout_gate});
             accumulate_fresh_grad(x, dx);
             accumulate_fresh_grad(gates, dgates);
             accumulate_fresh_grad(out_gate, dout_gate);
           });
  }
  return y;
}

}  // namespace birdie::autograd
