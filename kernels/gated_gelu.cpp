#include "kernels/gated_gelu.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/gated_gelu.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/gated_gelu.h"
#endif

namespace birdie::kernels {

namespace {

// Checks every tensor against the first's device and dtype and `shape`.
void check_operands(const char* op, const Shape& shape, std::initializer_list<const Tensor*> tensors) {
  require_same_device(op, tensors);
  const Tensor& first = **tensors.begin();
  BIRDIE_CHECK(first.rank() >= 1, op, ": operands need a last dimension, got ", first.describe());
  for (const Tensor* t : tensors) {
    check_shape(*t, shape, op);
    check_dtype(*t, first.dtype(), op);
  }
}

// rows and width of [..., M]
cpu::GatedRows rows_of(const Tensor& out, std::int64_t stride) {
  const std::int64_t width = out.dim(-1);
  return {width == 0 ? 0 : out.numel() / width, width, stride};
}

// x [..., 2M] → out's shape [..., M].
Shape half_shape(const char* op, const Tensor& x) {
  BIRDIE_CHECK(x.rank() >= 1 && x.dim(-1) % 2 == 0, op, ": the last dimension of ", x.describe(),
               " must be even (the gate's and the value's halves)");
  Shape shape = x.shape();
  shape.back() /= 2;
  return shape;
}

#ifdef BIRDIE_WITH_CUDA
// The address of element M of x's first row: where the second half of every row starts,
// read with x's row stride 2M.
template <class Byte>
Byte* second_half(Byte* data, std::int64_t M, DType dtype) {
  return data + M * static_cast<std::int64_t>(dtype_size(dtype));
}
#endif

}  // namespace

void gelu_mul_forward(const Tensor& a, const Tensor& b, Tensor& out) {
  check_operands("gelu_mul_forward", a.shape(), {&a, &b, &out});
  const cpu::GatedRows s = rows_of(out, out.dim(-1));
  if (a.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::gated_gelu_forward(f32.input(a), f32.input(b), 0, s, f32.output(out));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gelu_mul_forward");
  cuda::gated_gelu_forward(a.dtype(), a.raw_data(), b.raw_data(), s.rows, s.width, s.stride, out.raw_data(),
                           current_stream());
#else
  no_cuda_kernel("gelu_mul_forward");
#endif
}

void gelu_mul_backward(const Tensor& a, const Tensor& b, const Tensor& dy, Tensor& da, Tensor& db) {
  check_operands("gelu_mul_backward", a.shape(), {&a, &b, &dy, &da, &db});
  const cpu::GatedRows s = rows_of(dy, dy.dim(-1));
  if (a.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::gated_gelu_backward(f32.input(a), f32.input(b), 0, s, f32.input(dy), f32.output(da), f32.output(db), 0);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("gelu_mul_backward");
  cuda::gated_gelu_backward(a.dtype(), a.raw_data(), b.raw_data(), dy.raw_data(), s.rows, s.width, s.stride,
                            da.raw_data(), db.raw_data(), current_stream());
#else
  no_cuda_kernel("gelu_mul_backward");
#endif
}

void geglu_forward(const Tensor& x, Tensor& out) {
  const Shape shape = half_shape("geglu_forward", x);
  require_same_device("geglu_forward", {&x, &out});
  check_shape(out, shape, "geglu_forward");
  check_dtype(out, x.dtype(), "geglu_forward");
  const std::int64_t M = shape.back();
  const cpu::GatedRows s = rows_of(out, 2 * M);
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    const Tensor& wide = f32.input(x);
    cpu::gated_gelu_forward(wide, wide, M, s, f32.output(out));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("geglu_forward");
  const auto* base = static_cast<const char*>(x.raw_data());
  cuda::gated_gelu_forward(x.dtype(), base, second_half(base, M, x.dtype()), s.rows, s.width, s.stride,
                           out.raw_data(), current_stream());
#else
  no_cuda_kernel("geglu_forward");
#endif
}

void geglu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  const Shape shape = half_shape("geglu_backward", x);
  require_same_device("geglu_backward", {&x, &dy, &dx});
  check_shape(dy, shape, "geglu_backward dy");
  check_dtype(dy, x.dtype(), "geglu_backward dy");
  check_shape(dx, x.shape(), "geglu_backward dx");
  check_dtype(dx, x.dtype(), "geglu_backward dx");
  const std::int64_t M = shape.back();
  const cpu::GatedRows s = rows_of(dy, 2 * M);
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    const Tensor& wide = f32.input(x);
    Tensor& wide_dx = f32.output(dx);
    cpu::gated_gelu_backward(wide, wide, M, s, f32.input(dy), wide_dx, wide_dx, M);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("geglu_backward");
  const auto* base = static_cast<const char*>(x.raw_data());
  auto* dbase = static_cast<char*>(dx.raw_data());
  cuda::gated_gelu_backward(x.dtype(), base, second_half(base, M, x.dtype()), dy.raw_data(), s.rows, s.width,
                            s.stride, dbase, second_half(dbase, M, x.dtype()), current_stream());
#else
  no_cuda_kernel("geglu_backward");
#endif
}

}  // namespace birdie::kernels
