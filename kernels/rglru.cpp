#include "kernels/rglru.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/rglru.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/rglru.h"
#endif

namespace birdie::kernels {

DType rglru_lambda_dtype(DType proj_dtype) {
  return proj_dtype == DType::f64 ? DType::f64 : DType::f32;
}

namespace {
void check_rglru_operands(const char* op, const Tensor& proj, const Tensor& lambda,
                          const Tensor& reset, ScanDirection direction) {
  BIRDIE_CHECK(proj.rank() == 3 && proj.dim(2) % 3 == 0, op,
               ": proj must be [batch, time, 3·channels] (x, recurrence gate, input gate), got ",
               proj.describe());
  const std::int64_t C = proj.dim(2) / 3;
  check_shape(lambda, {C}, "RG-LRU lambda");
  BIRDIE_CHECK(lambda.dtype() == rglru_lambda_dtype(proj.dtype()), op, ": lambda ",
               lambda.describe(), " must be f32 (f64 with f64 proj), proj is ", proj.describe());
  check_reset_and_direction(op, proj, reset, "RG-LRU reset mask", direction, C,
                            "a bidirectional scan splits the channels in halves, so their count "
                            "must be even");
}
}  // namespace

Tensor rglru_scan_forward(const Tensor& proj, const Tensor& lambda, const Tensor& reset,
                          ScanDirection direction, Tensor& y) {
  require_same_device("rglru_scan_forward", {&proj, &lambda, &reset, &y});
  check_rglru_operands("rglru_scan_forward", proj, lambda, reset, direction);
  check_shape(y, {proj.dim(0), proj.dim(1), proj.dim(2) / 3}, "rglru_scan_forward output");
  check_dtype(y, proj.dtype(), "rglru_scan_forward output");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    Tensor saved = cpu::rglru_scan_forward(f32.input(proj), lambda, reset, direction, f32.output(y));
    f32.finish();
    return saved;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_scan_forward");
  const std::int64_t B = proj.dim(0), T = proj.dim(1), C = proj.dim(2) / 3;
  Tensor saved = Tensor::empty({B, cuda::rglru_chunk_count(T), C}, DType::f32, Device::cuda);
  Tensor scratch = Tensor::empty({cuda::rglru_scratch_elements(B, T, C)}, DType::f32, Device::cuda);
  cuda::rglru_scan_forward(proj.dtype(), proj.raw_data(), lambda.data<float>(),
                           reset.data<std::int32_t>(), direction == ScanDirection::bidirectional, B,
                           T, C, y.raw_data(), saved.data<float>(), scratch.data<float>(),
                           current_stream());
  return saved;
#else
  no_cuda_kernel("rglru_scan_forward");
#endif
}

void rglru_scan_backward(const Tensor& proj, const Tensor& lambda, const Tensor& reset,
                         ScanDirection direction, const Tensor& saved, const Tensor& dy,
                         Tensor& dproj, Tensor& dlambda) {
  require_same_device("rglru_scan_backward", {&proj, &lambda, &reset, &saved, &dy, &dproj, &dlambda});
  check_rglru_operands("rglru_scan_backward", proj, lambda, reset, direction);
  const std::int64_t B = proj.dim(0), T = proj.dim(1), C = proj.dim(2) / 3;
  check_shape(dy, {B, T, C}, "rglru_scan_backward dy");
  check_dtype(dy, proj.dtype(), "rglru_scan_backward dy");
  check_shape(dproj, proj.shape(), "rglru_scan_backward dproj");
  check_dtype(dproj, proj.dtype(), "rglru_scan_backward dproj");
  check_shape(dlambda, {C}, "rglru_scan_backward dlambda");
  check_dtype(dlambda, lambda.dtype(), "rglru_scan_backward dlambda");
  if (proj.is_cpu()) {
    check_shape(saved, {B, T, C}, "rglru_scan_backward saved (every state)");
    check_dtype(saved, proj.dtype() == DType::bf16 ? DType::f32 : proj.dtype(),
                "rglru_scan_backward saved");
    cpu::Bf16Emulation f32;
    cpu::rglru_scan_backward(f32.input(proj), lambda, reset, direction, saved, f32.input(dy),
                             f32.output(dproj), dlambda);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_scan_backward");
  check_shape(saved, {B, cuda::rglru_chunk_count(T), C},
              "rglru_scan_backward saved (chunk-boundary states)");
  check_dtype(saved, DType::f32, "rglru_scan_backward saved");
  Tensor scratch = Tensor::empty({cuda::rglru_scratch_elements(B, T, C)}, DType::f32, Device::cuda);
  cuda::rglru_scan_backward(proj.dtype(), proj.raw_data(), lambda.data<float>(),
                            reset.data<std::int32_t>(), direction == ScanDirection::bidirectional,
                            B, T, C, saved.data<float>(), dy.raw_data(), dproj.raw_data(),
                            dlambda.data<float>(), scratch.data<float>(), current_stream());
#else
  no_cuda_kernel("rglru_scan_backward");
#endif
}

}  // namespace birdie::kernels
