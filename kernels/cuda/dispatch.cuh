// The element types of the CUDA kernels, f32 and bf16 (math in f32), chosen at run time:
// the CUDA counterpart of kernels/cpu/dispatch.h, for the .cu files of kernels/cuda/.
#pragma once

#include <cuda_bf16.h>

#include "engine/dtype.h"
#include "engine/error.h"

namespace birdie::kernels::cuda {

// Calls fn(T{}) with T = float or __nv_bfloat16 according to `dtype`; any other dtype
// throws "OP (CUDA): OPERAND must be f32 or bf16, got DTYPE".
template <class Fn>
void dispatch_f32_bf16(DType dtype, const char* op, const char* operand, Fn&& fn) {
  if (dtype == DType::f32) return fn(float{});
  if (dtype == DType::bf16) return fn(__nv_bfloat16{});
  throw Error(detail::concat(op, " (CUDA): ", operand, " must be f32 or bf16, got ", dtype_name(dtype)));
}

}  // namespace birdie::kernels::cuda
