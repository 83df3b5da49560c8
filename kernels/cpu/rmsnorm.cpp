#include "kernels/cpu/rmsnorm.h"

#include <cmath>

#include "kernels/cpu/dispatch.h"

namespace birdie::kernels::cpu {

void rmsnorm_forward(const Tensor& x, const Tensor& weight, double eps, Tensor& y,
                     Tensor& inv_rms) {
  dispatch_floating(x, "rmsnorm_forward", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t D = x.dim(-1), rows = x.numel() / D;
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    T* py = y.data<T>();
    T* pr = inv_rms.data<T>();
    parallel_for(rows, x.numel(), [&](std::int64_t r) {
      const T* xr = px + r * D;
      double squares = 0;  // accumulate in double whatever T is
      for (std::int64_t j = 0; j < D; ++j) squares += double(xr[j]) * xr[j];
      const T inv = static_cast<T>(1.0 / std::sqrt(squares / D + eps));
      pr[r] = inv;
      for (std::int64_t j = 0; j < D; ++j) py[r * D + j] = xr[j] * inv * pw[j];
    });
  });
}

// With n = x·inv (the normalized row) and u = dy ⊙ w:
//   dx = inv · (u - n · mean(u ⊙ n)),   dw += Σ_rows dy ⊙ n.
void rmsnorm_backward(const Tensor& x, const Tensor& weight, const Tensor& inv_rms,
                      const Tensor& dy, Tensor& dx, Tensor& dweight, bool accumulate_dx) {
  dispatch_floating(x, "rmsnorm_backward", [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t D = x.dim(-1), rows = x.numel() / D;
    const T* px = x.data<T>();
    const T* pw = weight.data<T>();
    const T* pr = inv_rms.data<T>();
    const T* pg = dy.data<T>();
    T* pdx = dx.data<T>();
    T* pdw = dweight.data<T>();
    parallel_for(rows, x.numel(), [&](std::int64_t r) {
      const T inv = pr[r];
      double dot = 0;
      for (std::int64_t j = 0; j < D; ++j) dot += double(pg[r * D + j]) * pw[j] * px[r * D + j] * inv;
      const T mean_dot = static_cast<T>(dot / D);
      for (std::int64_t j = 0; j < D; ++j) {
        const T n = px[r * D + j] * inv;
        const T d = inv * (pg[r * D + j] * pw[j] - n * mean_dot);
        pdx[r * D + j] = accumulate_dx ? pdx[r * D + j] + d : d;
      }
    });
    // Column-owned reduction: deterministic and race-free.
    parallel_for(D, x.numel(), [&](std::int64_t j) {
      double acc = 0;
      for (std::int64_t r = 0; r < rows; ++r) acc += double(pg[r * D + j]) * px[r * D + j] * pr[r];
      pdw[j] += static_cast<T>(acc);
    });
  });
}

}  // namespace birdie::kernels::cpu
