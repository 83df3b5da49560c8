#include "autograd/ops.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"

namespace birdie::autograd {

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const kernels::Segments& segments,
                 kernels::AttentionMask mask) {
  BIRDIE_NVTX_RANGE("attention");
  BIRDIE_CHECK(q.rank() == 4, "attention: q must be [batch, time, heads, head_dim], got ",
               q.describe());
  Tensor out = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor lse = Tensor::empty({q.dim(0), q.dim(2), q.dim(1)}, kernels::attention_lse_dtype(q.dtype()),
                             q.device());
  kernels::attention_forward(q, k, v, segments, mask, out, lse);
  if (needs_grad({&q, &k, &v})) {
    // Saved: the inputs, the output and the row log-sum-exp (O(T), not the T×T
    // probabilities, which the backward recomputes).
    record("attention", {q, k, v}, {out},
           [q, k, v, segments, mask, out, lse](const std::vector<Tensor>& grads) {
             Tensor dq = Tensor::empty(q.shape(), q.dtype(), q.device());
             Tensor dk = Tensor::empty(k.shape(), k.dtype(), k.device());
             Tensor dv = Tensor::empty(v.shape(), v.dtype(), v.device());
             kernels::attention_backward(q, k, v, segments, mask, out, lse, grads[0], dq, dk, dv);
             accumulate_fresh_grad(q, dq);
             accumulate_fresh_grad(k, dk);
             accumulate_fresh_grad(v, dv);
           });
  }
  return out;
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                 kernels::AttentionMask mask) {
  return attention(q, k, v, kernels::segments_of(reset), mask);
}

}  // namespace birdie::autograd
