#include "kernels/attention.h"

#include "kernels/cpu/attention.h"
#include "kernels/cpu/bf16_emulation.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/attention.h"
#endif

namespace birdie::kernels {

namespace {
// q names the shape [B, T, H, Dh] and the dtype every other floating operand must share.
void check_attention_operands(const char* op, const Tensor& q, const Segments& segments,
                              const Tensor& lse,
                              std::initializer_list<std::pair<const Tensor*, const char*>> like_q) {
  BIRDIE_CHECK(q.rank() == 4 && q.dim(3) > 0, op,
               ": q must be [batch, time, heads, head_dim] with head_dim > 0, got ", q.describe());
  BIRDIE_CHECK(q.dtype() == DType::f32 || q.dtype() == DType::bf16 || q.dtype() == DType::f64, op,
               ": q must be f32, bf16 or f64, got ", q.describe());
  for (const auto& [t, name] : like_q) {
    BIRDIE_CHECK(t->shape() == q.shape(), op, ": ", name, " ", t->describe(),
                 " must have q's shape ", shape_string(q.shape()));
    BIRDIE_CHECK(t->dtype() == q.dtype(), op, ": ", name, " ", t->describe(),
                 " must have q's dtype ", dtype_name(q.dtype()));
  }
  check_segments(op, segments, q.dim(0), q.dim(1), q.device());
  check_shape(lse, {q.dim(0), q.dim(2), q.dim(1)}, "attention lse [batch, heads, time]");
  check_dtype(lse, attention_lse_dtype(q.dtype()), "attention lse");
}
}  // namespace

DType attention_lse_dtype(DType q_dtype) { return q_dtype == DType::f64 ? DType::f64 : DType::f32; }

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Segments& segments,
                       AttentionMask mask, Tensor& out, Tensor& lse) {
  const Tensor& reset = segments.reset;
  require_same_device("attention_forward", {&q, &k, &v, &reset, &out, &lse});
  check_attention_operands("attention_forward", q, segments, lse,
                           {{&k, "k"}, {&v, "v"}, {&out, "out"}});
  if (q.numel() == 0) return;
  if (q.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::attention_forward(f32.input(q), f32.input(k), f32.input(v), reset, mask, f32.output(out), lse);
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("attention_forward");
  cuda::attention_forward(q.dtype(), q.raw_data(), k.raw_data(), v.raw_data(),
                          reset.data<std::int32_t>(), segments.bounds.data<std::int32_t>(),
                          mask == AttentionMask::prefix, q.dim(0),
                          q.dim(1), q.dim(2), q.dim(3), out.raw_data(), lse.data<float>(),
                          current_stream());
#else
  no_cuda_kernel("attention_forward");
#endif
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Segments& segments,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
  const Tensor& reset = segments.reset;
  require_same_device("attention_backward", {&q, &k, &v, &reset, &out, &lse, &dout, &dq, &dk, &dv});
  check_attention_operands("attention_backward", q, segments, lse,
                           {{&k, "k"}, {&v, "v"}, {&out, "out"}, {&dout, "dout"}, {&dq, "dq"},
                            {&dk, "dk"}, {&dv, "dv"}});
  if (q.numel() == 0) return;
  if (q.is_cpu()) {
    cpu::Bf16Emulation f32;
    cpu::attention_backward(f32.input(q), f32.input(k), f32.input(v), reset, mask, f32.input(out),
                            lse, f32.input(dout), f32.output(dq), f32.output(dk), f32.output(dv));
    return f32.finish();
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("attention_backward");
  cuda::attention_backward(q.dtype(), q.raw_data(), k.raw_data(), v.raw_data(),
                           reset.data<std::int32_t>(), segments.bounds.data<std::int32_t>(),
                          mask == AttentionMask::prefix, q.dim(0),
                           q.dim(1), q.dim(2), q.dim(3), out.raw_data(), lse.data<float>(),
                           dout.raw_data(), dq.raw_data(), dk.raw_data(), dv.raw_data(),
                           current_stream());
#else
  no_cuda_kernel("attention_backward");
#endif
}

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                       AttentionMask mask, Tensor& out, Tensor& lse) {
  attention_forward(q, k, v, segments_of(reset), mask, out, lse);
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv) {
  attention_backward(q, k, v, segments_of(reset), mask, out, lse, dout, dq, dk, dv);
}

}  // namespace birdie::kernels
