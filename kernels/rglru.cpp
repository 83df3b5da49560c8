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

DType rglru_lambda_dtype(DType input_dtype) {
  return input_dtype == DType::f64 ? DType::f64 : DType::f32;
}

std::int64_t check_rglru_inputs(const char* op, const Tensor& x, const Tensor& gates, const Tensor& lambda,
                                bool time_axis) {
  const int rank = time_axis ? 3 : 2;
  BIRDIE_CHECK(x.rank() == rank, op, ": x (the drive) must be ",
               time_axis ? "[batch, time, channels]" : "[batch, channels]", ", got ", x.describe());
  const std::int64_t C = x.dim(-1);
  Shape gates_shape = x.shape();
  gates_shape.back() = 2 * C;
  BIRDIE_CHECK(gates.shape() == gates_shape && gates.dtype() == x.dtype(), op,
               ": gates (the recurrence and input gates' pre-activations) must have x's shape with ", 2 * C,
               " channels and x's dtype, x is ", x.describe(), ", gates ", gates.describe());
  check_shape(lambda, {C}, "RG-LRU lambda");
  BIRDIE_CHECK(lambda.dtype() == rglru_lambda_dtype(x.dtype()), op, ": lambda ", lambda.describe(),
               " must be f32 (f64 with f64 inputs), x is ", x.describe());
  return C;
}

namespace {
std::int64_t check_rglru_operands(const char* op, const Tensor& x, const Tensor& gates, const Tensor& lambda,
                                  const Tensor& reset, ScanDirection direction, const Tensor& out_gate) {
  const std::int64_t C = check_rglru_inputs(op, x, gates, lambda);
  check_reset_and_direction(op, x, reset, "RG-LRU reset mask", direction, C,
                            "a bidirectional scan splits the channels in halves, so their count "
                            "must be even");
  if (out_gate.defined()) {
    check_shape(out_gate, x.shape(), "RG-LRU output gate (x's shape)");
    check_dtype(out_gate, x.dtype(), "RG-LRU output gate (x's dtype)");
  }
  return C;
}

// The raw pointer of an optional tensor (nullptr when undefined).
void* raw_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
}  // namespace

Tensor rglru_scan_forward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                          ScanDirection direction, Tensor& y, const RglruOutputGate& out) {
  require_same_device("rglru_scan_forward", {&x, &gates, &lambda, &reset, &y});
  if (out.gate.defined()) require_same_device("rglru_scan_forward", {&x, &out.gate});
  const std::int64_t C = check_rglru_operands("rglru_scan_forward", x, gates, lambda, reset, direction, out.gate);
  check_shape(y, x.shape(), "rglru_scan_forward output");
  check_dtype(y, x.dtype(), "rglru_scan_forward output");
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    Tensor saved = cpu::rglru_scan_forward(f32.input(x), f32.input(gates), f32.input(out.gate), lambda, reset,
                                           direction, f32.output(y));
    f32.finish();
    return saved;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_scan_forward");
  const std::int64_t B = x.dim(0), T = x.dim(1);
  Tensor saved = Tensor::empty({B, cuda::rglru_chunk_count(T), C}, DType::f32, Device::cuda);
  Tensor scratch = Tensor::empty({cuda::rglru_scratch_elements(B, T, C)}, DType::f32, Device::cuda);
  cuda::rglru_scan_forward(x.dtype(), x.raw_data(), gates.raw_data(), raw_or_null(out.gate), lambda.data<float>(),
                           reset.data<std::int32_t>(), direction == ScanDirection::bidirectional, B, T, C,
                           y.raw_data(), saved.data<float>(), scratch.data<float>(), current_stream());
  return saved;
#else
  (void)C;
  no_cuda_kernel("rglru_scan_forward");
#endif
}

void rglru_scan_backward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                         ScanDirection direction, const Tensor& saved, const Tensor& dy, Tensor& dx, Tensor& dgates,
                         Tensor& dlambda, const RglruOutputGate& out) {
  require_same_device("rglru_scan_backward", {&x, &gates, &lambda, &reset, &saved, &dy, &dx, &dgates, &dlambda});
  if (out.gate.defined()) {
    BIRDIE_CHECK(out.dgate.defined(), "rglru_scan_backward: with an output gate, out.dgate (its gradient, x's "
                 "shape and dtype) must be given too");
    require_same_device("rglru_scan_backward", {&x, &out.gate, &out.dgate});
  }
  const std::int64_t C = check_rglru_operands("rglru_scan_backward", x, gates, lambda, reset, direction, out.gate);
  if (out.gate.defined()) {
    check_shape(out.dgate, x.shape(), "rglru_scan_backward output gate's gradient (x's shape)");
    check_dtype(out.dgate, x.dtype(), "rglru_scan_backward output gate's gradient (x's dtype)");
  }
  const std::int64_t B = x.dim(0), T = x.dim(1);
  check_shape(dy, x.shape(), "rglru_scan_backward dy");
  check_dtype(dy, x.dtype(), "rglru_scan_backward dy");
  check_shape(dx, x.shape(), "rglru_scan_backward dx");
  check_dtype(dx, x.dtype(), "rglru_scan_backward dx");
  check_shape(dgates, gates.shape(), "rglru_scan_backward dgates");
  check_dtype(dgates, x.dtype(), "rglru_scan_backward dgates");
  check_shape(dlambda, {C}, "rglru_scan_backward dlambda");
  check_dtype(dlambda, lambda.dtype(), "rglru_scan_backward dlambda");
  if (x.is_cpu()) {
    check_shape(saved, {B, T, C}, "rglru_scan_backward saved (every state)");
    check_dtype(saved, x.dtype() == DType::bf16 ? DType::f32 : x.dtype(), "rglru_scan_backward saved");
    cpu::Bf16Emulation f32;
    Tensor dgate = out.gate.defined() ? out.dgate : Tensor();
    cpu::rglru_scan_backward(f32.input(x), f32.input(gates), f32.input(out.gate), lambda, reset, direction, saved,
                             f32.input(dy), f32.output(dx), f32.output(dgates),
                             dgate.defined() ? f32.output(dgate) : dgate, dlambda);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rglru_scan_backward");
  check_shape(saved, {B, cuda::rglru_chunk_count(T), C}, "rglru_scan_backward saved (chunk-boundary states)");
  check_dtype(saved, DType::f32, "rglru_scan_backward saved");
  Tensor scratch = Tensor::empty({cuda::rglru_scratch_elements(B, T, C)}, DType::f32, Device::cuda);
  cuda::rglru_scan_backward(x.dtype(), x.raw_data(), gates.raw_data(), raw_or_null(out.gate), lambda.data<float>(),
                            reset.data<std::int32_t>(), direction == ScanDirection::bidirectional, B, T, C,
                            saved.data<float>(), dy.raw_data(), dx.raw_data(), dgates.raw_data(),
                            out.gate.defined() ? out.dgate.raw_data() : nullptr, dlambda.data<float>(),
                            scratch.data<float>(), current_stream());
#else
  no_cuda_kernel("rglru_scan_backward");
#endif
}

}  // namespace birdie::kernels
