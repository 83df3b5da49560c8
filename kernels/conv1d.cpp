#include "kernels/conv1d.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/conv1d.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/conv1d.h"
#endif

namespace birdie::kernels {

namespace {
void check_conv_operands(const char* op, const Tensor& x, const Tensor& weight,
                         const Tensor& reset, ScanDirection direction) {
  BIRDIE_CHECK(x.rank() == 3, op, ": x must be [batch, time, channels], got ", x.describe());
  const std::int64_t C = x.dim(2);
  BIRDIE_CHECK(weight.rank() == 2 && weight.dim(0) >= 1 && weight.dim(1) == C, op,
               ": weight must be [width ≥ 1, channels = ", C, "], got ", weight.describe());
  check_dtype(weight, x.dtype(), "causal conv1d weight");
  check_reset_and_direction(op, x, reset, "causal conv1d reset mask", direction, C,
                            "a bidirectional convolution splits the channels in halves, so their "
                            "count must be even");
}
}  // namespace

void causal_conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Tensor& reset, ScanDirection direction, Tensor& y) {
  require_same_device("causal_conv1d_forward", {&x, &weight, &bias, &reset, &y});
  check_conv_operands("causal_conv1d_forward", x, weight, reset, direction);
  check_shape(bias, {x.dim(2)}, "causal_conv1d_forward bias");
  check_dtype(bias, x.dtype(), "causal_conv1d_forward bias");
  check_shape(y, x.shape(), "causal_conv1d_forward output");
  check_dtype(y, x.dtype(), "causal_conv1d_forward output");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::causal_conv1d_forward(f32.input(x), f32.input(weight), f32.input(bias), reset, direction,
                               f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("causal_conv1d_forward");
  cuda::causal_conv1d_forward(x.dtype(), x.raw_data(), weight.raw_data(), bias.raw_data(),
                              reset.data<std::int32_t>(), direction == ScanDirection::bidirectional,
                              x.dim(0), x.dim(1), x.dim(2), weight.dim(0), y.raw_data(),
                              current_stream());
#else
  no_cuda_kernel("causal_conv1d_forward");
#endif
}

void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& reset,
                            ScanDirection direction, const Tensor& dy, Tensor& dx,
                            Tensor& dweight, Tensor& dbias) {
  require_same_device("causal_conv1d_backward", {&x, &weight, &reset, &dy, &dx, &dweight, &dbias});
  check_conv_operands("causal_conv1d_backward", x, weight, reset, direction);
  check_shape(dy, x.shape(), "causal_conv1d_backward dy");
  check_dtype(dy, x.dtype(), "causal_conv1d_backward dy");
  check_shape(dx, x.shape(), "causal_conv1d_backward dx");
  check_dtype(dx, x.dtype(), "causal_conv1d_backward dx");
  check_shape(dweight, weight.shape(), "causal_conv1d_backward dweight");
  check_shape(dbias, {x.dim(2)}, "causal_conv1d_backward dbias");
  BIRDIE_CHECK(same_or_f32_with_bf16(dweight, x) && dbias.dtype() == dweight.dtype(),
               "causal_conv1d_backward: dweight ", dweight.describe(), " and dbias ",
               dbias.describe(), " must both have x's dtype (or both f32 with bf16 x), x is ",
               x.describe());
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::causal_conv1d_backward(f32.input(x), f32.input(weight), reset, direction, f32.input(dy),
                                f32.output(dx), f32.accumulated(dweight), f32.accumulated(dbias));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("causal_conv1d_backward");
  const std::int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), K = weight.dim(0);
  Tensor scratch = Tensor::empty({cuda::conv1d_scratch_elements(B, T, C, K)}, DType::f32, Device::cuda);
  cuda::causal_conv1d_backward(x.dtype(), dweight.dtype(), x.raw_data(), weight.raw_data(),
                               reset.data<std::int32_t>(), direction == ScanDirection::bidirectional,
                               B, T, C, K, dy.raw_data(), dx.raw_data(), dweight.raw_data(),
                               dbias.raw_data(), scratch.data<float>(), current_stream());
#else
  no_cuda_kernel("causal_conv1d_backward");
#endif
}

}  // namespace birdie::kernels
