// How an op reaches its backend: the Tensor-level functions in kernels/*.cpp validate
// their operands, then call the CPU reference or the CUDA kernel for the device the
// tensors live on.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// Throws unless every tensor is defined and on `reference`'s device; names the op.
void require_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// For ops whose CUDA kernel does not exist in this build: a clear error, not a crash.
[[noreturn]] void no_cuda_kernel(const char* op);

}  // namespace birdie::kernels
