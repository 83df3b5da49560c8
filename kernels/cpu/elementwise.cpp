#include "kernels/cpu/elementwise.h"

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

namespace {

// out[i] = fn(a[i], b[i mod |b|]): b is a itself's shape or a trailing part of it.
template <class Fn>
void binary(const Tensor& a, const Tensor& b, Tensor& out, const char* op, Fn fn) {
  dispatch_floating(a, op, [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const std::int64_t n = a.numel(), nb = b.numel();
#pragma omp parallel for if (n > parallel_threshold)
    for (std::int64_t i = 0; i < n; ++i) po[i] = fn(pa[i], pb[nb == n ? i : i % nb]);
  });
}

template <class Fn>
void unary(const Tensor& x, Tensor& out, const char* op, Fn fn) {
  dispatch_floating(x, op, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const std::int64_t n = x.numel();
#pragma omp parallel for if (n > parallel_threshold)
    for (std::int64_t i = 0; i < n; ++i) po[i] = fn(px[i]);
  });
}

}  // namespace

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  binary(a, b, out, "add", [](auto x, auto y) { return x + y; });
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  binary(a, b, out, "mul", [](auto x, auto y) { return x * y; });
}

void scale(const Tensor& a, double factor, Tensor& out) {
  unary(a, out, "scale", [factor](auto x) { return static_cast<decltype(x)>(x * factor); });
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  unary(x, y, "sigmoid", [](auto v) { return sigmoid(v); });
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  binary(y, dy, dx, "sigmoid_backward", [](auto s, auto g) { return g * s * (1 - s); });
}

void gelu_forward(const Tensor& x, Tensor& y) {
  unary(x, y, "gelu", [](auto v) { return gelu(v); });
}

void gelu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  binary(x, dy, dx, "gelu_backward", [](auto v, auto g) { return g * gelu_derivative(v); });
}

void accumulate(Tensor& dst, const Tensor& src) {
  binary(dst, src, dst, "accumulate", [](auto x, auto y) { return x + y; });
}

void sum_to_trailing(const Tensor& in, Tensor& out) {
  dispatch_floating(in, "sum_to_trailing", [&](auto zero) {
    using T = decltype(zero);
    const T* pi = in.data<T>();
    T* po = out.data<T>();
    const std::int64_t width = out.numel(), rows = in.numel() / std::max<std::int64_t>(width, 1);
    // Each thread owns whole output columns: no races, a fixed summation order.
#pragma omp parallel for if (in.numel() > parallel_threshold)
    for (std::int64_t j = 0; j < width; ++j) {
      T acc = 0;
      for (std::int64_t r = 0; r < rows; ++r) acc += pi[r * width + j];
      po[j] = acc;
    }
  });
}

}  // namespace birdie::kernels::cpu
