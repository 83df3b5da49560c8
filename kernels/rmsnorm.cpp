#include "kernels/rmsnorm.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/rmsnorm.h"
#include "kernels/device_dispatch.h"
#include "kernels/elementwise.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/rmsnorm.h"
#endif

namespace birdie::kernels {

namespace {
void check_norm_operands(const char* op, const Tensor& x, const Tensor& weight,
                         const Tensor& inv_rms) {
  BIRDIE_CHECK(x.rank() >= 1 && x.dim(-1) > 0, op, ": x must have a last dimension, got ",
               x.describe());
  check_shape(weight, {x.dim(-1)}, op);
  check_dtype(weight, x.dtype(), op);
  check_shape(inv_rms, {x.numel() / x.dim(-1)}, op);
  BIRDIE_CHECK(same_or_f32_with_bf16(inv_rms, x), op, ": inv_rms ", inv_rms.describe(),
               " must have x's dtype (or f32 with bf16 x), x is ", x.describe());
}
}  // namespace

void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms) {
  require_same_device("rmsnorm_forward", {&x, &weight, &y, &inv_rms});
  check_norm_operands("rmsnorm_forward", x, weight, inv_rms);
  check_shape(y, x.shape(), "rmsnorm_forward output");
  check_dtype(y, x.dtype(), "rmsnorm_forward output");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rmsnorm_forward(f32.input(x), f32.input(weight), eps, f32.output(y), f32.output(inv_rms));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rmsnorm_forward");
  const std::int64_t D = x.dim(-1);
  cuda::rmsnorm_forward(x.dtype(), inv_rms.dtype(), x.raw_data(), nullptr, nullptr,
                        weight.raw_data(), eps, x.numel() / D, D, y.raw_data(), inv_rms.raw_data(),
                        current_stream());
#else
  no_cuda_kernel("rmsnorm_forward");
#endif
}

void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight, bool accumulate_dx) {
  require_same_device("rmsnorm_backward", {&x, &weight, &inv_rms, &dy, &dx, &dweight});
  check_norm_operands("rmsnorm_backward", x, weight, inv_rms);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&dy, &dx}) {
    check_shape(*t, x.shape(), "rmsnorm_backward");
    check_dtype(*t, x.dtype(), "rmsnorm_backward");
  }
  check_shape(dweight, weight.shape(), "rmsnorm_backward dweight");
  BIRDIE_CHECK(same_or_f32_with_bf16(dweight, x), "rmsnorm_backward: dweight ",
               dweight.describe(), " must have x's dtype (or f32 with bf16 x), x is ", x.describe());
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rmsnorm_backward(f32.input(x), f32.input(weight), f32.input(inv_rms), f32.input(dy),
                          accumulate_dx ? f32.accumulated(dx) : f32.output(dx), f32.accumulated(dweight),
                          accumulate_dx);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rmsnorm_backward");
  const std::int64_t D = x.dim(-1);
  cuda::rmsnorm_backward(x.dtype(), inv_rms.dtype(), dweight.dtype(), x.raw_data(), weight.raw_data(),
                         inv_rms.raw_data(), dy.raw_data(), x.numel() / D, D, dx.raw_data(),
                         dweight.raw_data(), accumulate_dx, current_stream());
#else
  no_cuda_kernel("rmsnorm_backward");
#endif
}

void rmsnorm_residual_forward(const Tensor& x, const Tensor& residual, const Tensor& weight,
                              double eps, Tensor& residual_out, Tensor& y, Tensor& inv_rms) {
  require_same_device("rmsnorm_residual_forward", {&x, &residual, &weight, &residual_out, &y, &inv_rms});
  check_norm_operands("rmsnorm_residual_forward", x, weight, inv_rms);
  for (const Tensor* t : std::initializer_list<const Tensor*>{&residual, &residual_out, &y}) {
    check_shape(*t, x.shape(), "rmsnorm_residual_forward");
    check_dtype(*t, x.dtype(), "rmsnorm_residual_forward");
  }
  if (x.is_cpu()) {
    // The sum is rounded to x's dtype before it is normalized, as on the GPU.
    add(x, residual, residual_out);
    return rmsnorm_forward(residual_out, weight, eps, y, inv_rms);
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rmsnorm_residual_forward");
  const std::int64_t D = x.dim(-1);
  cuda::rmsnorm_forward(x.dtype(), inv_rms.dtype(), x.raw_data(), residual.raw_data(),
                        residual_out.raw_data(), weight.raw_data(), eps, x.numel() / D, D,
                        y.raw_data(), inv_rms.raw_data(), current_stream());
#else
  no_cuda_kernel("rmsnorm_residual_forward");
#endif
}

}  // namespace birdie::kernels
