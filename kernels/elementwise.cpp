#include "kernels/elementwise.h"

#include "kernels/cpu/bf16_emulation.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/elementwise.h"
#endif

namespace birdie::kernels {

bool broadcasts_to(const Shape& b, const Shape& a) {
  if (b.size() > a.size()) return false;
  return std::equal(b.begin(), b.end(), a.end() - static_cast<std::ptrdiff_t>(b.size()));
}

namespace {

void check_binary(const char* op, const Tensor& a, const Tensor& b, const Tensor& out) {
  require_same_device(op, {&a, &b, &out});
  BIRDIE_CHECK(broadcasts_to(b.shape(), a.shape()), op, ": shape of ", b.describe(),
               " is neither equal to nor a trailing part of ", a.describe());
  BIRDIE_CHECK(a.dtype() == b.dtype(), op, ": dtypes differ, ", a.describe(), " and ",
               b.describe());
  check_shape(out, a.shape(), op);
  check_dtype(out, a.dtype(), op);
}

void check_unary(const char* op, const Tensor& x, const Tensor& out) {
  require_same_device(op, {&x, &out});
  check_shape(out, x.shape(), op);
  check_dtype(out, x.dtype(), op);
}

// bf16 values summed straight into an f32 tensor (mixed precision's gradients), never
// rounded to bf16 on the way.
bool mixed_precision_sum(const Tensor& from, const Tensor& into) {
  return from.dtype() == DType::bf16 && into.dtype() == DType::f32;
}

void check_same(const char* op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_binary(op, a, b, out);
  check_shape(b, a.shape(), op);
}

// The CPU references with bf16 emulated (kernels/cpu/bf16_emulation.h).
void cpu_binary(void (*reference)(const Tensor&, const Tensor&, Tensor&), const Tensor& a,
                const Tensor& b, Tensor& out) {
  cpu::Bf16Emulation f32;
  reference(f32.input(a), f32.input(b), f32.output(out));
  f32.finish();
}
void cpu_unary(void (*reference)(const Tensor&, Tensor&), const Tensor& x, Tensor& out) {
  cpu::Bf16Emulation f32;
  reference(f32.input(x), f32.output(out));
  f32.finish();
}

#ifdef BIRDIE_WITH_CUDA
void run_binary(const char* name, cuda::BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  BIRDIE_NVTX_RANGE(name);
  cuda::binary(a.dtype(), op, a.raw_data(), b.raw_data(), out.raw_data(), a.numel(), b.numel(),
               current_stream());
}
void run_unary(const char* name, cuda::UnaryOp op, const Tensor& x, Tensor& out, double factor) {
  BIRDIE_NVTX_RANGE(name);
  cuda::unary(x.dtype(), op, x.raw_data(), out.raw_data(), x.numel(), factor, current_stream());
}
#define BIRDIE_CUDA_BINARY(name, op, a, b, out) return run_binary(name, cuda::BinaryOp::op, a, b, out)
#define BIRDIE_CUDA_UNARY(name, op, x, out, factor) return run_unary(name, cuda::UnaryOp::op, x, out, factor)
#else
#define BIRDIE_CUDA_BINARY(name, op, a, b, out) no_cuda_kernel(name)
#define BIRDIE_CUDA_UNARY(name, op, x, out, factor) no_cuda_kernel(name)
#endif

}  // namespace

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  check_binary("add", a, b, out);
  if (a.is_cpu()) return cpu_binary(cpu::add, a, b, out);
  BIRDIE_CUDA_BINARY("add", add, a, b, out);
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  check_binary("mul", a, b, out);
  if (a.is_cpu()) return cpu_binary(cpu::mul, a, b, out);
  BIRDIE_CUDA_BINARY("mul", mul, a, b, out);
}

void scale(const Tensor& a, double factor, Tensor& out) {
  check_unary("scale", a, out);
  if (a.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::scale(f32.input(a), factor, f32.output(out));
    return f32.finish();
  }
  BIRDIE_CUDA_UNARY("scale", scale, a, out, factor);
}

void scale_inplace(Tensor& dst, double factor) { scale(dst, factor, dst); }

void scale_inplace(Tensor& dst, const Tensor& factor) {
  require_same_device("scale_inplace", {&dst, &factor});
  BIRDIE_CHECK(factor.numel() == 1 && (factor.dtype() == DType::f32 || factor.dtype() == DType::f64),
               "scale_inplace: the factor must be one f32 or f64 element, got ", factor.describe());
  if (dst.is_cpu()) return scale_inplace(dst, factor.item());
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("scale_by_device_scalar");
  BIRDIE_CHECK(factor.dtype() == DType::f32, "scale_inplace (CUDA): the factor must be f32, got ",
               factor.describe());
  cuda::scale_by_device_scalar(dst.dtype(), dst.raw_data(), factor.data<float>(), dst.numel(),
                               current_stream());
#else
  no_cuda_kernel("scale_inplace");
#endif
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  check_unary("sigmoid", x, y);
  if (x.is_cpu()) return cpu_unary(cpu::sigmoid_forward, x, y);
  BIRDIE_CUDA_UNARY("sigmoid", sigmoid, x, y, 1.0);
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same("sigmoid_backward", y, dy, dx);
  if (y.is_cpu()) return cpu_binary(cpu::sigmoid_backward, y, dy, dx);
  BIRDIE_CUDA_BINARY("sigmoid_backward", sigmoid_backward, y, dy, dx);
}

void gelu_forward(const Tensor& x, Tensor& y) {
  check_unary("gelu", x, y);
  if (x.is_cpu()) return cpu_unary(cpu::gelu_forward, x, y);
  BIRDIE_CUDA_UNARY("gelu", gelu, x, y, 1.0);
}

void gelu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  check_same("gelu_backward", x, dy, dx);
  if (x.is_cpu()) return cpu_binary(cpu::gelu_backward, x, dy, dx);
  BIRDIE_CUDA_BINARY("gelu_backward", gelu_backward, x, dy, dx);
}

void accumulate(Tensor& dst, const Tensor& src) {
  require_same_device("accumulate", {&dst, &src});
  check_shape(src, dst.shape(), "accumulate");
  BIRDIE_CHECK(src.dtype() == dst.dtype() || mixed_precision_sum(src, dst), "accumulate: ",
               src.describe(), " into ", dst.describe(), " (the same dtype, or bf16 into f32)");
  if (dst.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::accumulate(f32.accumulated(dst), f32.input(src));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("accumulate");
  cuda::accumulate(dst.dtype(), src.dtype(), dst.raw_data(), src.raw_data(), dst.numel(),
                   current_stream());
#else
  no_cuda_kernel("accumulate");
#endif
}

void sum_to_trailing(const Tensor& in, Tensor& out) {
  require_same_device("sum_to_trailing", {&in, &out});
  BIRDIE_CHECK(broadcasts_to(out.shape(), in.shape()), "sum_to_trailing: ", out.describe(),
               " is not a trailing part of ", in.describe());
  BIRDIE_CHECK(out.dtype() == in.dtype() || mixed_precision_sum(in, out), "sum_to_trailing: ",
               in.describe(), " into ", out.describe(), " (the same dtype, or bf16 into f32)");
  if (in.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::sum_to_trailing(f32.input(in), f32.output(out));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("sum_to_trailing");
  const std::int64_t width = out.numel();
  cuda::sum_to_trailing(in.dtype(), out.dtype(), in.raw_data(), out.raw_data(),
                        width == 0 ? 0 : in.numel() / width, width, current_stream());
#else
  no_cuda_kernel("sum_to_trailing");
#endif
}

}  // namespace birdie::kernels
