#include "kernels/elementwise.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/device_dispatch.h"

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

void check_same(const char* op, const Tensor& a, const Tensor& b, const Tensor& out) {
  check_binary(op, a, b, out);
  check_shape(b, a.shape(), op);
}

}  // namespace

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  check_binary("add", a, b, out);
  if (a.is_cpu()) return cpu::add(a, b, out);
  no_cuda_kernel("add");
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  check_binary("mul", a, b, out);
  if (a.is_cpu()) return cpu::mul(a, b, out);
  no_cuda_kernel("mul");
}

void scale(const Tensor& a, double factor, Tensor& out) {
  check_unary("scale", a, out);
  if (a.is_cpu()) return cpu::scale(a, factor, out);
  no_cuda_kernel("scale");
}

void scale_inplace(Tensor& dst, double factor) { scale(dst, factor, dst); }

void sigmoid_forward(const Tensor& x, Tensor& y) {
  check_unary("sigmoid", x, y);
  if (x.is_cpu()) return cpu::sigmoid_forward(x, y);
  no_cuda_kernel("sigmoid");
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same("sigmoid_backward", y, dy, dx);
  if (y.is_cpu()) return cpu::sigmoid_backward(y, dy, dx);
  no_cuda_kernel("sigmoid_backward");
}

void gelu_forward(const Tensor& x, Tensor& y) {
  check_unary("gelu", x, y);
  if (x.is_cpu()) return cpu::gelu_forward(x, y);
  no_cuda_kernel("gelu");
}

void gelu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  check_same("gelu_backward", x, dy, dx);
  if (x.is_cpu()) return cpu::gelu_backward(x, dy, dx);
  no_cuda_kernel("gelu_backward");
}

void accumulate(Tensor& dst, const Tensor& src) {
  check_same("accumulate", dst, src, dst);
  if (dst.is_cpu()) return cpu::accumulate(dst, src);
  no_cuda_kernel("accumulate");
}

void sum_to_trailing(const Tensor& in, Tensor& out) {
  require_same_device("sum_to_trailing", {&in, &out});
  BIRDIE_CHECK(broadcasts_to(out.shape(), in.shape()), "sum_to_trailing: ", out.describe(),
               " is not a trailing part of ", in.describe());
  check_dtype(out, in.dtype(), "sum_to_trailing");
  if (in.is_cpu()) return cpu::sum_to_trailing(in, out);
  no_cuda_kernel("sum_to_trailing");
}

}  // namespace birdie::kernels
