#include "kernels/cpu/embedding.h"

#include <cstring>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

namespace {
void check_ids(const Tensor& ids, std::int64_t vocab, const char* op) {
  const std::int32_t* p = ids.data<std::int32_t>();
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    BIRDIE_CHECK(p[i] >= 0 && p[i] < vocab, op, ": token id ", p[i], " at position ", i,
                 " is outside the vocabulary [0, ", vocab, ")");
}
}  // namespace

void embedding_forward(const Tensor& table, const Tensor& ids, Tensor& out) {
  const std::int64_t V = table.dim(0), D = table.dim(1);
  check_ids(ids, V, "embedding_forward");
  const std::int32_t* pid = ids.data<std::int32_t>();
  const std::size_t row_bytes = D * dtype_size(table.dtype());
  const char* src = static_cast<const char*>(table.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
#pragma omp parallel for if (out.numel() > parallel_threshold)
  for (std::int64_t r = 0; r < ids.numel(); ++r)
    std::memcpy(dst + r * row_bytes, src + pid[r] * row_bytes, row_bytes);
}

void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable) {
  const std::int64_t V = dtable.dim(0), D = dtable.dim(1);
  check_ids(ids, V, "embedding_backward");
  dispatch_floating(dtable, "embedding_backward", [&](auto zero) {
    using T = decltype(zero);
    const std::int32_t* pid = ids.data<std::int32_t>();
    const T* pg = dout.data<T>();
    T* pt = dtable.data<T>();
    // Threads own column ranges, so repeated ids never race and the order is fixed.
#pragma omp parallel for if (dout.numel() > parallel_threshold)
    for (std::int64_t j = 0; j < D; ++j)
      for (std::int64_t r = 0; r < ids.numel(); ++r) pt[pid[r] * D + j] += pg[r * D + j];
  });
}

}  // namespace birdie::kernels::cpu
