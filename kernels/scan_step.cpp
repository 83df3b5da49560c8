#include "kernels/scan_step.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/scan_step.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/scan_step.h"
#endif

namespace birdie::kernels {

// The CPU reference (kernels/cpu/scan_step.cpp) is f32/f64 only: bf16 is emulated
// (kernels/cpu/bf16_emulation.h); the state is f32 for a bf16 proj, as on the GPU.

void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state) {
  require_same_device("gated_scan_final_state", {&proj, &reset, &state});
  BIRDIE_CHECK(proj.rank() == 3 && proj.dim(2) % 4 == 0,
               "gated_scan_final_state: proj must be [batch, time, 4·state], got ", proj.describe());
  const std::int64_t B = proj.dim(0), T = proj.dim(1), N = proj.dim(2) / 4;
  check_shape(reset, {B, T}, "gated_scan_final_state reset mask");
  check_dtype(reset, DType::i32, "gated_scan_final_state reset mask");
  check_shape(state, {B, N}, "gated_scan_final_state state");
  check_dtype(state, gated_scan_state_dtype(proj.dtype()),
              "gated_scan_final_state state (proj's dtype, f32 for a bf16 proj)");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    return cpu::gated_scan_final_state(f32.input(proj), reset, direction, state);
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gated_scan_final_state");
  // The launcher rejects any proj dtype but f32 and bf16, whose state is f32.
  cuda::gated_scan_final_state(proj.dtype(), proj.raw_data(), reset.data<std::int32_t>(),
                               direction == ScanDirection::bidirectional, B, T, N,
                               static_cast<float*>(state.raw_data()), current_stream());
#else
  no_cuda_kernel("gated_scan_final_state");
#endif
}

void gated_scan_step(const Tensor& proj, Tensor& state, ScanDirection direction, Tensor& y) {
  require_same_device("gated_scan_step", {&proj, &state, &y});
  BIRDIE_CHECK(proj.rank() == 2 && proj.dim(1) % 4 == 0,
               "gated_scan_step: proj must be [batch, 4·state], got ", proj.describe());
  const std::int64_t B = proj.dim(0), N = proj.dim(1) / 4;
  check_shape(state, {B, N}, "gated_scan_step state");
  check_dtype(state, gated_scan_state_dtype(proj.dtype()),
              "gated_scan_step state (proj's dtype, f32 for a bf16 proj)");
  check_shape(y, {B, N}, "gated_scan_step output");
  check_dtype(y, proj.dtype(), "gated_scan_step output");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::gated_scan_step(f32.input(proj), state, direction, f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gated_scan_step");
  cuda::gated_scan_step(proj.dtype(), proj.raw_data(), direction == ScanDirection::bidirectional, B,
                        N, static_cast<float*>(state.raw_data()), y.raw_data(), current_stream());
#else
  no_cuda_kernel("gated_scan_step");
#endif
}

}  // namespace birdie::kernels
