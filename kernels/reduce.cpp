#include "kernels/reduce.h"

#include <cmath>

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/reduce.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/reduce.h"
#endif
#include "kernels/elementwise.h"

namespace birdie::kernels {

#ifdef BIRDIE_WITH_CUDA
namespace {
double device_reduce(const Tensor& x, cuda::ReduceOp op) {
  BIRDIE_NVTX_RANGE(op == cuda::ReduceOp::sum ? "sum" : "sum_of_squares");
  Tensor result = Tensor::empty({1}, DType::f64, Device::cuda);
  cuda::reduce(x.dtype(), op, x.raw_data(), x.numel(), 1.0, DType::f64, result.raw_data(),
               current_stream());
  return result.item();
}
}  // namespace
#endif

double sum_of_squares(const Tensor& x) {
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    return cpu::sum_of_squares(f32.input(x));
  }
#ifdef BIRDIE_WITH_CUDA
  return device_reduce(x, cuda::ReduceOp::sum_of_squares);
#else
  no_cuda_kernel("sum_of_squares");
#endif
}

double sum(const Tensor& x) {
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    return cpu::sum(f32.input(x));
  }
#ifdef BIRDIE_WITH_CUDA
  return device_reduce(x, cuda::ReduceOp::sum);
#else
  no_cuda_kernel("sum");
#endif
}

namespace {
// out[0] = scale · Σ x or Σ x², left on the device.
void reduce_into(const Tensor& x, bool squares, double scale, Tensor& out, const char* what) {
  require_same_device(what, {&x, &out});
  check_shape(out, {1}, what);
  BIRDIE_CHECK(out.dtype() == DType::f32 || out.dtype() == DType::f64,
               what, ": the result is f32 or f64, got ", out.describe());
  if (x.is_cpu())
    return out.copy_from(Tensor::full({1}, scale * (squares ? sum_of_squares(x) : sum(x)), out.dtype()));
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE(what);
  cuda::reduce(x.dtype(), squares ? cuda::ReduceOp::sum_of_squares : cuda::ReduceOp::sum, x.raw_data(), x.numel(),
               scale, out.dtype(), out.raw_data(), current_stream());
#else
  no_cuda_kernel(what);
#endif
}
}  // namespace

void sum_into(const Tensor& x, double scale, Tensor& out) { reduce_into(x, false, scale, out, "sum_into"); }

void sum_of_squares_into(const Tensor& x, Tensor& out) { reduce_into(x, true, 1.0, out, "sum_of_squares_into"); }

double clip_global_norm(std::span<Tensor> tensors, double max_norm) {
  double squares = 0;
  for (const Tensor& t : tensors) squares += sum_of_squares(t);
  const double norm = std::sqrt(squares);
  if (std::isfinite(norm) && max_norm > 0 && norm > max_norm)
    for (Tensor& t : tensors) scale_inplace(t, max_norm / norm);
  return norm;
}

}  // namespace birdie::kernels
