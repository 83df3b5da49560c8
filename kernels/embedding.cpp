#include "kernels/embedding.h"

#include "kernels/cpu/embedding.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

namespace {
Shape rows_by(const Tensor& ids, std::int64_t width) {
  Shape s = ids.shape();
  s.push_back(width);
  return s;
}
}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  require_same_device("embedding_forward", {&table, &ids, &out});
  BIRDIE_CHECK(table.rank() == 2, "embedding_forward: table must be [vocab, dim], got ",
               table.describe());
  check_dtype(ids, DType::i32, "embedding_forward ids");
  check_shape(out, rows_by(ids, table.dim(1)), "embedding_forward output");
  check_dtype(out, table.dtype(), "embedding_forward output");
  if (table.is_cpu()) return cpu::embedding_forward(table, ids, out);
  no_cuda_kernel("embedding_forward");
}

void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  require_same_device("embedding_backward", {&ids, &dout, &dtable});
  BIRDIE_CHECK(dtable.rank() == 2, "embedding_backward: dtable must be [vocab, dim], got ",
               dtable.describe());
  check_dtype(ids, DType::i32, "embedding_backward ids");
  check_shape(dout, rows_by(ids, dtable.dim(1)), "embedding_backward dout");
  check_dtype(dout, dtable.dtype(), "embedding_backward dout");
  if (dtable.is_cpu()) return cpu::embedding_backward(ids, dout, dtable);
  no_cuda_kernel("embedding_backward");
}

}  // namespace birdie::kernels
