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
// (kernels/cpu/bf16_emulation.h); the RG-LRU state is f32 for bf16 inputs, as on the GPU.

namespace {
void check_halves(const char* op, ScanDirection direction, std::int64_t C) {
  BIRDIE_CHECK(direction == ScanDirection::causal || C % 2 == 0, op,
               ": a bidirectional block splits the channels in halves, so their count must be even, got ", C);
}
}  // namespace

void rglru_final_state(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                       ScanDirection direction, Tensor& state) {
  require_same_device("rglru_final_state", {&x, &gates, &lambda, &reset, &state});
  const std::int64_t C = check_rglru_inputs("rglru_final_state", x, gates, lambda);
  const std::int64_t B = x.dim(0), T = x.dim(1);
  check_halves("rglru_final_state", direction, C);
  check_shape(reset, {B, T}, "rglru_final_state reset mask");
  check_dtype(reset, DType::i32, "rglru_final_state reset mask");
  check_shape(state, {B, C}, "rglru_final_state state");
  check_dtype(state, rglru_state_dtype(x.dtype()), "rglru_final_state state (x's dtype, f32 for a bf16 x)");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    return cpu::rglru_final_state(f32.input(x), f32.input(gates), lambda, reset, direction, state);
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_final_state");
  cuda::rglru_final_state(x.dtype(), x.raw_data(), gates.raw_data(), lambda.data<float>(),
                          reset.data<std::int32_t>(), direction == ScanDirection::bidirectional, B, T, C,
                          state.data<float>(), current_stream());
#else
  no_cuda_kernel("rglru_final_state");
#endif
}

void rglru_step(const Tensor& x, const Tensor& gates, const Tensor& lambda, Tensor& state, ScanDirection direction,
                Tensor& y) {
  require_same_device("rglru_step", {&x, &gates, &lambda, &state, &y});
  const std::int64_t C = check_rglru_inputs("rglru_step", x, gates, lambda, false);
  const std::int64_t B = x.dim(0);
  check_halves("rglru_step", direction, C);
  check_shape(state, {B, C}, "rglru_step state");
  check_dtype(state, rglru_state_dtype(x.dtype()), "rglru_step state (x's dtype, f32 for a bf16 x)");
  check_shape(y, {B, C}, "rglru_step output");
  check_dtype(y, x.dtype(), "rglru_step output");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rglru_step(f32.input(x), f32.input(gates), lambda, state, direction, f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_step");
  cuda::rglru_step(x.dtype(), x.raw_data(), gates.raw_data(), lambda.data<float>(),
                   direction == ScanDirection::bidirectional, B, C, state.data<float>(), y.raw_data(),
                   current_stream());
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
