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

namespace {
// Σ x² or Σ x, read back to the host.
double reduce_to_host(const Tensor& x, bool squares) {
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    return squares ? cpu::sum_of_squares(f32.input(x)) : cpu::sum(f32.input(x));
  }
  const char* name = squares ? "sum_of_squares" : "sum";
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE(name);
  Tensor result = Tensor::empty({1}, DType::f64, Device::cuda);
  cuda::reduce(x.dtype(), squares ? cuda::ReduceOp::sum_of_squares : cuda::ReduceOp::sum,
               x.raw_data(), x.numel(), 1.0, DType::f64, result.raw_data(), current_stream());
  return result.item();
#else
  no_cuda_kernel(name);
#endif
}
}  // namespace

double sum_of_squares(const Tensor& x) { return reduce_to_host(x, true); }

double sum(const Tensor& x) { return reduce_to_host(x, false); }

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
