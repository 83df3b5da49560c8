#include "kernels/rotary.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/rotary.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/rotary.h"
#endif

namespace birdie::kernels {

namespace {
void rotate(const char* op, const Tensor& x, const Segments& segments, double base, int sign, Tensor& y) {
  const Tensor& reset = segments.reset;
  require_same_device(op, {&x, &reset, &y});
  BIRDIE_CHECK(x.rank() == 4 && x.dim(3) % 2 == 0 && x.dim(3) > 0, op,
               ": the input must be [batch, time, heads, head_dim] with an even head_dim > 0, got ",
               x.describe());
  BIRDIE_CHECK(base > 1.0, op, ": the base must exceed 1, got ", base);
  check_shape(y, x.shape(), op);
  check_dtype(y, x.dtype(), op);
  check_segments(op, segments, x.dim(0), x.dim(1), x.device());
  if (x.numel() == 0) return;
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rotary(f32.input(x), reset, base, sign, f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE(op);
  cuda::rotary(x.dtype(), x.raw_data(), segments.bounds.data<std::int32_t>(), base, sign, x.dim(0), x.dim(1),
               x.dim(2), x.dim(3), y.raw_data(), current_stream());
#else
  no_cuda_kernel(op);
#endif
}
}  // namespace

void rotary_forward(const Tensor& x, const Segments& segments, double base, Tensor& y) {
  rotate("rotary_forward", x, segments, base, +1, y);
}
void rotary_forward(const Tensor& x, const Tensor& reset, double base, Tensor& y) {
  rotary_forward(x, segments_of(reset), base, y);
}

void rotary_backward(const Tensor& dy, const Segments& segments, double base, Tensor& dx) {
  rotate("rotary_backward", dy, segments, base, -1, dx);
}
void rotary_backward(const Tensor& dy, const Tensor& reset, double base, Tensor& dx) {
  rotary_backward(dy, segments_of(reset), base, dx);
}

}  // namespace birdie::kernels
