#include "autograd/ops.h"
#include "autograd/ops/helpers.h"
#include "autograd/tape.h"
#include "kernels/embedding.h"

namespace birdie::autograd {

Tensor embedding(const Tensor& table, const Tensor& ids) {
  BIRDIE_CHECK(table.rank() == 2, "embedding: table must be [vocab, dim], got ", table.describe());
  Shape out_shape = ids.shape();
  out_shape.push_back(table.dim(1));
  Tensor out = Tensor::empty(out_shape, table.dtype(), table.device());
  kernels::embedding_forward(table, ids, out);
  if (needs_grad({&table})) {
    record("embedding", {table}, {out}, [table, ids](const std::vector<Tensor>& grads) {
      Tensor dtable = grad_buffer(table);  // scatter-add straight into the gradient
      kernels::embedding_backward(ids, grads[0], dtable);
    });
  }
  return out;
}

}  // namespace birdie::autograd
