#include "kernels/cross_entropy.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/cross_entropy.h"
#endif

namespace birdie::kernels {

std::int64_t count_targets(const Tensor& targets, std::int64_t vocab) {
  check_dtype(targets, DType::i32, "count_targets");
  const std::vector<std::int32_t> values = targets.to_vector<std::int32_t>();
  std::int64_t counted = 0;
  for (std::size_t r = 0; r < values.size(); ++r) {
    BIRDIE_CHECK(values[r] == ignore_index || (values[r] >= 0 && values[r] < vocab),
                 "cross_entropy: target ", values[r], " at row ", r,
                 " is outside the vocabulary [0, ", vocab, ") and is not the ignore index ",
                 ignore_index);
    counted += values[r] != ignore_index;
  }
  return counted;
}

void cross_entropy_forward_backward(const Tensor& logits, const Tensor& targets, double grad_scale,
                                    Tensor& row_loss, Tensor* dlogits) {
  require_same_device("cross_entropy", {&logits, &targets, &row_loss});
  BIRDIE_CHECK(logits.rank() == 2 && logits.dim(1) > 0,
               "cross_entropy: logits must be [rows, vocab], got ", logits.describe());
  check_shape(targets, {logits.dim(0)}, "cross_entropy targets");
  check_dtype(targets, DType::i32, "cross_entropy targets");
  check_shape(row_loss, {logits.dim(0)}, "cross_entropy row_loss");
  BIRDIE_CHECK(row_loss.dtype() == logits.dtype() ||
                   (logits.dtype() == DType::bf16 && row_loss.dtype() == DType::f32),
               "cross_entropy: row_loss ", row_loss.describe(), " must have the logits' dtype (or "
               "f32 with bf16 logits), logits are ", logits.describe());
  if (dlogits) {
    require_same_device("cross_entropy", {&logits, dlogits});
    check_shape(*dlogits, logits.shape(), "cross_entropy dlogits");
    check_dtype(*dlogits, logits.dtype(), "cross_entropy dlogits");
  }
  if (logits.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::cross_entropy_forward_backward(f32.input(logits), targets, grad_scale, f32.output(row_loss),
                                        dlogits ? &f32.output(*dlogits) : nullptr);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("cross_entropy");
  cuda::cross_entropy_forward_backward(
      logits.dtype(), row_loss.dtype(), logits.raw_data(), targets.data<std::int32_t>(),
      logits.dim(0), logits.dim(1), grad_scale, row_loss.raw_data(),
      dlogits ? dlogits->raw_data() : nullptr, current_stream());
#else
  no_cuda_kernel("cross_entropy");
#endif
}

}  // namespace birdie::kernels
