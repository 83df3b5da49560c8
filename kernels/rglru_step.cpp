#include "kernels/rglru_step.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/rglru_step.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/rglru_step.h"
#endif

namespace birdie::kernels {

// The CPU reference (kernels/cpu/rglru_step.cpp) is f32/f64 only: bf16 is emulated
// (kernels/cpu/bf16_emulation.h); the RG-LRU state is f32 for a bf16 proj, as on the GPU.

namespace {
void check_lambda(const char* op, const Tensor& lambda, DType proj_dtype, std::int64_t C) {
  check_shape(lambda, {C}, "RG-LRU lambda");
  BIRDIE_CHECK(lambda.dtype() == rglru_lambda_dtype(proj_dtype), op, ": lambda ", lambda.describe(),
               " must be f32 (f64 with f64 proj)");
}
void check_halves(const char* op, ScanDirection direction, std::int64_t C) {
  BIRDIE_CHECK(direction == ScanDirection::causal || C % 2 == 0, op,
               ": a bidirectional block splits the channels in halves, so their count must be even, got ", C);
}
}  // namespace

void rglru_final_state(const Tensor& proj, const Tensor& lambda, const Tensor& reset, ScanDirection direction,
                       Tensor& state) {
  require_same_device("rglru_final_state", {&proj, &lambda, &reset, &state});
  BIRDIE_CHECK(proj.rank() == 3 && proj.dim(2) % 3 == 0,
               "rglru_final_state: proj must be [batch, time, 3·channels], got ", proj.describe());
  const std::int64_t B = proj.dim(0), T = proj.dim(1), C = proj.dim(2) / 3;
  check_lambda("rglru_final_state", lambda, proj.dtype(), C);
  check_halves("rglru_final_state", direction, C);
  check_shape(reset, {B, T}, "rglru_final_state reset mask");
  check_dtype(reset, DType::i32, "rglru_final_state reset mask");
  check_shape(state, {B, C}, "rglru_final_state state");
  check_dtype(state, rglru_state_dtype(proj.dtype()), "rglru_final_state state (proj's dtype, f32 for a bf16 proj)");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    return cpu::rglru_final_state(f32.input(proj), lambda, reset, direction, state);
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_final_state");
  cuda::rglru_final_state(proj.dtype(), proj.raw_data(), lambda.data<float>(), reset.data<std::int32_t>(),
                          direction == ScanDirection::bidirectional, B, T, C, state.data<float>(),
                          current_stream());
#else
  no_cuda_kernel("rglru_final_state");
#endif
}

void rglru_step(const Tensor& proj, const Tensor& lambda, Tensor& state, ScanDirection direction, Tensor& y) {
  require_same_device("rglru_step", {&proj, &lambda, &state, &y});
  BIRDIE_CHECK(proj.rank() == 2 && proj.dim(1) % 3 == 0, "rglru_step: proj must be [batch, 3·channels], got ",
               proj.describe());
  const std::int64_t B = proj.dim(0), C = proj.dim(1) / 3;
  check_lambda("rglru_step", lambda, proj.dtype(), C);
  check_halves("rglru_step", direction, C);
  check_shape(state, {B, C}, "rglru_step state");
  check_dtype(state, rglru_state_dtype(proj.dtype()), "rglru_step state (proj's dtype, f32 for a bf16 proj)");
  check_shape(y, {B, C}, "rglru_step output");
  check_dtype(y, proj.dtype(), "rglru_step output");
  if (proj.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rglru_step(f32.input(proj), lambda, state, direction, f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_step");
  cuda::rglru_step(proj.dtype(), proj.raw_data(), lambda.data<float>(), direction == ScanDirection::bidirectional,
                   B, C, state.data<float>(), y.raw_data(), current_stream());
#else
  no_cuda_kernel("rglru_step");
#endif
}

void conv1d_step(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& window,
                 ScanDirection direction, Tensor& y) {
  require_same_device("conv1d_step", {&x, &weight, &bias, &window, &y});
  BIRDIE_CHECK(x.rank() == 2, "conv1d_step: x must be [batch, channels], got ", x.describe());
  BIRDIE_CHECK(weight.rank() == 2 && weight.dim(0) >= 1, "conv1d_step: weight must be [width, channels], got ",
               weight.describe());
  const std::int64_t B = x.dim(0), C = x.dim(1), K = weight.dim(0);
  check_halves("conv1d_step", direction, C);
  check_shape(weight, {K, C}, "conv1d_step weight");
  check_shape(bias, {C}, "conv1d_step bias");
  check_shape(window, {B, K - 1, C}, "conv1d_step window");
  check_shape(y, {B, C}, "conv1d_step output");
  check_dtype(weight, x.dtype(), "conv1d_step weight (x's dtype)");
  check_dtype(bias, x.dtype(), "conv1d_step bias (x's dtype)");
  check_dtype(window, x.dtype(), "conv1d_step window (x's dtype)");
  check_dtype(y, x.dtype(), "conv1d_step output (x's dtype)");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::conv1d_step(f32.input(x), f32.input(weight), f32.input(bias), f32.accumulated(window), direction,
                     f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("conv1d_step");
  cuda::conv1d_step(x.dtype(), x.raw_data(), weight.raw_data(), bias.raw_data(),
                    direction == ScanDirection::bidirectional, B, C, K, window.raw_data(), y.raw_data(),
                    current_stream());
#else
  no_cuda_kernel("conv1d_step");
#endif
}

}  // namespace birdie::kernels
