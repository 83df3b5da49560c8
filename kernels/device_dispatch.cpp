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

}  // namespace birdie::kernels
