// Element-type conversion of tensors on any device: f32, f64 and bf16 among themselves
// (to bf16: round to nearest, ties to even; NaN stays NaN). Tensor::to(DType) in the engine
// converts on the CPU only (the engine may not depend on kernels); this works on GPU
// tensors too.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

// out: in's shape and device, any of the three dtypes.
void convert(const Tensor& in, Tensor& out);
// A new tensor of `dtype` on in's device.
Tensor to_dtype(const Tensor& in, DType dtype);

}  // namespace birdie::kernels
