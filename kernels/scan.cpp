#include "kernels/scan.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/scan.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/scan.h"
#endif

namespace birdie::kernels {

namespace {
void check_scan_operands(const char* op, const Tensor& proj, const Tensor& reset,
                         ScanDirection direction) {
  BIRDIE_CHECK(proj.rank() == 3 && proj.dim(2) % 4 == 0, op,
               ": proj must be [batch, time, 4·state], got ", proj.describe());
  check_reset_and_direction(op, proj, reset, "gated scan reset mask", direction, proj.dim(2) / 4,
                            "a bidirectional scan splits the state in halves, so the state width "
                            "must be even");
}
}  // namespace

Tensor gated_scan_forward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                          Tensor& y) {
  require_same_device("gated_scan_forward", {&proj, &reset, &y});
  check_scan_operands("gated_scan_forward", proj, reset, direction);
  check_shape(y, {proj.dim(0), proj.dim(1), proj.dim(2) / 4}, "gated_scan_forward output");
  check_dtype(y, proj.dtype(), "gated_scan_forward output");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    Tensor saved = cpu::gated_scan_forward(f32.input(proj), reset, direction, f32.output(y));
    f32.finish();
    return saved;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gated_scan_forward");
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  const std::int64_t chunks = cuda::scan_chunk_count(T);
  Tensor saved = Tensor::empty({B, chunks, N}, DType::f32, Device::cuda);
  Tensor scratch = Tensor::empty({cuda::scan_scratch_elements(B, T, N)}, DType::f32, Device::cuda);
  cuda::gated_scan_forward(proj.dtype(), proj.raw_data(), reset.data<std::int32_t>(),
                           direction == ScanDirection::bidirectional, B, T, N, y.raw_data(),
                           saved.data<float>(), scratch.data<float>(), current_stream());
  return saved;
#else
  no_cuda_kernel("gated_scan_forward");
#endif
}

void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj) {
  require_same_device("gated_scan_backward", {&proj, &reset, &saved, &dy, &dproj});
  check_scan_operands("gated_scan_backward", proj, reset, direction);
  check_shape(dy, {proj.dim(0), proj.dim(1), proj.dim(2) / 4}, "gated_scan_backward dy");
  check_shape(dproj, proj.shape(), "gated_scan_backward dproj");
  check_dtype(dy, proj.dtype(), "gated_scan_backward dy");
  check_dtype(dproj, proj.dtype(), "gated_scan_backward dproj");
  if (proj.is_cpu()) {
    check_shape(saved, {proj.dim(0), proj.dim(1), proj.dim(2) / 4}, "gated_scan_backward saved");
    check_dtype(saved, proj.dtype() == DType::bf16 ? DType::f32 : proj.dtype(),
                "gated_scan_backward saved");
    cpu::Bf16Emulation f32;
    cpu::gated_scan_backward(f32.input(proj), reset, direction, saved, f32.input(dy),
                             f32.output(dproj));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gated_scan_backward");
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  const std::int64_t chunks = cuda::scan_chunk_count(T);
  check_shape(saved, {B, chunks, N}, "gated_scan_backward saved (chunk-boundary states)");
  check_dtype(saved, DType::f32, "gated_scan_backward saved");
  Tensor scratch = Tensor::empty({cuda::scan_scratch_elements(B, T, N)}, DType::f32, Device::cuda);
  cuda::gated_scan_backward(proj.dtype(), proj.raw_data(), reset.data<std::int32_t>(),
                            direction == ScanDirection::bidirectional, B, T, N,
                            saved.data<float>(), dy.raw_data(), dproj.raw_data(),
                            scratch.data<float>(), current_stream());
#else
  no_cuda_kernel("gated_scan_backward");
#endif
}

}  // namespace birdie::kernels
