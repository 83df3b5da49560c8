#include "kernels/convert.h"

#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/elementwise.h"
#endif

namespace birdie::kernels {

void convert(const Tensor& in, Tensor& out) {
  require_same_device("convert", {&in, &out});
  check_shape(out, in.shape(), "convert output");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&in, &out})
    BIRDIE_CHECK(t->dtype() == DType::f32 || t->dtype() == DType::f64 || t->dtype() == DType::bf16,
                 "convert: takes f32, f64 or bf16, got ", t->describe());
  if (in.is_cpu()) return out.copy_from(in.to(out.dtype()));
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("convert");
  cuda::convert(in.dtype(), out.dtype(), in.raw_data(), out.raw_data(), in.numel(), current_stream());
#else
  no_cuda_kernel("convert");
#endif
}

Tensor to_dtype(const Tensor& in, DType dtype) {
  Tensor out = Tensor::empty(in.shape(), dtype, in.device());
  convert(in, out);
  return out;
}

}  // namespace birdie::kernels
