#include "kernels/embedding.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/embedding.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/embedding.h"
#endif

namespace birdie::kernels {

namespace {
// A table [vocab, dim] (or its gradient), i32 ids of any shape, and rows [ids..., dim].
void check_lookup(const char* op, const Tensor& table, const char* table_name, const Tensor& ids,
                  const Tensor& rows, const char* rows_name) {
  BIRDIE_CHECK(table.rank() == 2, op, ": ", table_name, " must be [vocab, dim], got ",
               table.describe());
  check_dtype(ids, DType::i32, detail::concat(op, " ids").c_str());
  Shape rows_shape = ids.shape();
  rows_shape.push_back(table.dim(1));
  check_shape(rows, rows_shape, detail::concat(op, " ", rows_name).c_str());
}
}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  require_same_device("embedding_forward", {&table, &ids, &out});
  check_lookup("embedding_forward", table, "table", ids, out, "output");
  check_dtype(out, table.dtype(), "embedding_forward output");
  if (table.is_cpu()) return cpu::embedding_forward(table, ids, out);
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("embedding_forward");
  cuda::embedding_forward(table.dtype(), table.raw_data(), ids.data<std::int32_t>(), ids.numel(),
                          table.dim(0), table.dim(1), out.raw_data(), current_stream());
#else
  no_cuda_kernel("embedding_forward");
#endif
}

void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  require_same_device("embedding_backward", {&ids, &dout, &dtable});
  check_lookup("embedding_backward", dtable, "dtable", ids, dout, "dout");
  BIRDIE_CHECK(dout.dtype() == dtable.dtype() ||
                   (dout.dtype() == DType::bf16 && dtable.dtype() == DType::f32),
               "embedding_backward: dout ", dout.describe(), " must have dtable's dtype (or be bf16 "
               "into an f32 dtable), dtable is ", dtable.describe());
  if (dtable.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::embedding_backward(ids, f32.input(dout), f32.accumulated(dtable));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("embedding_backward");
  cuda::embedding_backward(dout.dtype(), dtable.dtype(), ids.data<std::int32_t>(), ids.numel(),
                           dtable.dim(0), dtable.dim(1), dout.raw_data(), dtable.raw_data(),
                           current_stream());
#else
  no_cuda_kernel("embedding_backward");
#endif
}

}  // namespace birdie::kernels
