#include "kernels/device_dispatch.h"

namespace birdie::kernels {

void require_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    BIRDIE_CHECK(t->defined(), op, ": an operand is undefined");
    if (!first) first = t;
    check_same_device(*first, *t, op);
  }
}

void no_cuda_kernel(const char* op) {
  throw Error(detail::concat(op, ": no CUDA kernel in this build; run it on CPU tensors"));
}

void check_reset_and_direction(const char* op, const Tensor& x, const Tensor& reset,
                               const char* reset_what, ScanDirection direction,
                               std::int64_t channels, const char* halves_rule) {
  check_shape(reset, {x.dim(0), x.dim(1)}, reset_what);
  check_dtype(reset, DType::i32, reset_what);
  BIRDIE_CHECK(direction == ScanDirection::causal || channels % 2 == 0, op, ": ", halves_rule,
               ", got ", channels);
}

}  // namespace birdie::kernels
