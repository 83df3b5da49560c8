#include "kernels/cpu/gated_gelu.h"

#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/math.h"

namespace birdie::kernels::cpu {

// The products in the order the separate gelu, mul and their backward rules take them, so
// an f32 or f64 model computes the same bits fused as unfused.
void gated_gelu_forward(const Tensor& a, const Tensor& b, std::int64_t b_offset, GatedRows s,
                        Tensor& out) {
  dispatch_floating(a, "gelu_mul_forward", [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>() + b_offset;
    T* po = out.data<T>();
    parallel_for(s.rows, s.rows * s.width, [&](std::int64_t r) {
      for (std::int64_t j = 0; j < s.width; ++j) {
        const T g = gelu(pa[r * s.stride + j]);
        po[r * s.width + j] = g * pb[r * s.stride + j];
      }
    });
  });
}

void gated_gelu_backward(const Tensor& a, const Tensor& b, std::int64_t b_offset, GatedRows s,
                         const Tensor& dy, Tensor& da, Tensor& db, std::int64_t db_offset) {
  dispatch_floating(a, "gelu_mul_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>() + b_offset;
    const T* pg = dy.data<T>();
    T* pda = da.data<T>();
    T* pdb = db.data<T>() + db_offset;
    parallel_for(s.rows, s.rows * s.width, [&](std::int64_t r) {
      for (std::int64_t j = 0; j < s.width; ++j) {
        const T x = pa[r * s.stride + j], g = pg[r * s.width + j];
        const T gated = g * pb[r * s.stride + j];
        const T activated = gelu(x);
        pda[r * s.stride + j] = gated * gelu_derivative(x);
        pdb[r * s.stride + j] = g * activated;
      }
    });
  });
}

}  // namespace birdie::kernels::cpu
