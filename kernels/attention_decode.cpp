#include "kernels/attention_decode.h"

#include <initializer_list>

#include "kernels/cpu/attention_decode.h"
#include "kernels/cpu/bf16_emulation.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/attention_decode.h"
#endif

namespace birdie::kernels {

namespace {
void check_floating(const char* op, const Tensor& t) {
  BIRDIE_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::bf16 || t.dtype() == DType::f64, op,
               ": the tensors must be f32, bf16 or f64, got ", t.describe());
}
}  // namespace

void attention_decode(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out) {
  const char* op = "attention_decode";
  require_same_device(op, {&q, &k, &v, &out});
  BIRDIE_CHECK(q.rank() == 2 && q.dim(1) > 0, op, ": q must be [heads, head_dim], got ", q.describe());
  check_floating(op, q);
  BIRDIE_CHECK(k.rank() == 3 && k.dim(0) > 0 && k.dim(1) == q.dim(0) && k.dim(2) == q.dim(1), op,
               ": k must be [n ≥ 1, heads, head_dim] with q's heads and head_dim, got ", k.describe(), " for q ",
               q.describe());
  check_shape(v, k.shape(), "attention_decode v (k's shape)");
  check_shape(out, q.shape(), "attention_decode out (q's shape)");
  for (const Tensor* t : std::initializer_list<const Tensor*>{&k, &v, &out}) check_dtype(*t, q.dtype(), "attention_decode operand (q's dtype)");
  if (q.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::attention_decode(f32.input(q), f32.input(k), f32.input(v), f32.output(out));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("attention_decode");
  cuda::attention_decode(q.dtype(), q.raw_data(), k.raw_data(), v.raw_data(), k.dim(0), q.dim(0), q.dim(1),
                         out.raw_data(), current_stream());
#else
  no_cuda_kernel(op);
#endif
}

void rotary_at_position(const Tensor& x, std::int64_t position, double base, Tensor& y) {
  const char* op = "rotary_at_position";
  require_same_device(op, {&x, &y});
  BIRDIE_CHECK(x.rank() == 2 && x.dim(1) > 0 && x.dim(1) % 2 == 0, op,
               ": x must be [heads, head_dim] with an even head_dim > 0, got ", x.describe());
  check_floating(op, x);
  BIRDIE_CHECK(base > 1.0, op, ": the base must exceed 1, got ", base);
  BIRDIE_CHECK(position >= 0, op, ": the position must not be negative, got ", position);
  check_shape(y, x.shape(), op);
  check_dtype(y, x.dtype(), op);
  if (x.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::rotary_at_position(f32.input(x), position, base, f32.output(y));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("rotary_at_position");
  cuda::rotary_at_position(x.dtype(), x.raw_data(), position, base, x.dim(0), x.dim(1), y.raw_data(),
                           current_stream());
#else
  no_cuda_kernel(op);
#endif
}

}  // namespace birdie::kernels
