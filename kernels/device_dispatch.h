// How an op reaches its backend: the Tensor-level functions in kernels/*.cpp validate
// their operands, then call the CPU reference or the CUDA kernel for the device the
// tensors live on.
#pragma once

#include "engine/tensor.h"
#include "kernels/scan.h"

namespace birdie::kernels {

// Throws unless every tensor is defined and on `reference`'s device; names the op.
void require_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// For ops whose CUDA kernel does not exist in this build: a clear error, not a crash.
[[noreturn]] void no_cuda_kernel(const char* op);

// Whether t has x's dtype, or is f32 with bf16 x: statistics and parameter gradients summed
// over many tokens may stay in f32 with bf16 activations.
inline bool same_or_f32_with_bf16(const Tensor& t, const Tensor& x) {
  return t.dtype() == x.dtype() || (x.dtype() == DType::bf16 && t.dtype() == DType::f32);
}

// The operands the sequence ops over x [batch, time, channels] share (kernels/scan.h): the
// reset mask [batch, time], i32, named `reset_what`; and for a bidirectional op an even
// channel count, since it splits the channels in halves (`halves_rule` says so in the
// error, which ends with ", got <channels>").
void check_reset_and_direction(const char* op, const Tensor& x, const Tensor& reset,
                               const char* reset_what, ScanDirection direction,
                               std::int64_t channels, const char* halves_rule);

}  // namespace birdie::kernels
