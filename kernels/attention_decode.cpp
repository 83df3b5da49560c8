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

namespace {
// Checks the batched operands: q [B, H, Dh], a cache [B, capacity, H, Dh], positions [B].
void check_cached(const char* op, const Tensor& q, const Tensor& keys, const Tensor& values, const Tensor& positions) {
  BIRDIE_CHECK(q.rank() == 3 && q.dim(2) > 0 && q.dim(2) % 2 == 0, op,
               ": q must be [rows, heads, head_dim] with an even head_dim, got ", q.describe());
  check_floating(op, q);
  const std::int64_t B = q.dim(0), H = q.dim(1), Dh = q.dim(2);
  BIRDIE_CHECK(keys.rank() == 4 && keys.dim(0) == B && keys.dim(1) > 0 && keys.dim(2) == H && keys.dim(3) == Dh, op,
               ": the key cache must be [rows, capacity ≥ 1, heads, head_dim] with q's rows, heads and head_dim, got ",
               keys.describe(), " for q ", q.describe());
  check_shape(values, keys.shape(), "value cache (the key cache's shape)");
  check_dtype(keys, q.dtype(), "key cache (q's dtype)");
  check_dtype(values, q.dtype(), "value cache (q's dtype)");
  check_shape(positions, {B}, "cache positions");
  check_dtype(positions, DType::i32, "cache positions");
  if (positions.is_cpu()) {
    const std::int32_t* p = positions.data<std::int32_t>();
    for (std::int64_t b = 0; b < B; ++b)
      BIRDIE_CHECK(p[b] >= 0 && p[b] < keys.dim(1), op, ": row ", b, "'s position ", p[b],
                   " is outside its cache of ", keys.dim(1), " rows");
  }
}

// Row b's cache, rows [0, n).
Tensor cache_rows(const Tensor& cache, std::int64_t b, std::int64_t n) {
  return cache.slice(b, b + 1).reshape({cache.dim(1), cache.dim(2), cache.dim(3)}).slice(0, n);
}
}  // namespace

void append_to_cache(Tensor& q, const Tensor& k, const Tensor& v, const Tensor& positions, double base, Tensor& keys,
                     Tensor& values) {
  const char* op = "append_to_cache";
  require_same_device(op, {&q, &k, &v, &positions, &keys, &values});
  check_cached(op, q, keys, values, positions);
  check_shape(k, q.shape(), "append_to_cache k (q's shape)");
  check_shape(v, q.shape(), "append_to_cache v (q's shape)");
  check_dtype(k, q.dtype(), "append_to_cache k (q's dtype)");
  check_dtype(v, q.dtype(), "append_to_cache v (q's dtype)");
  BIRDIE_CHECK(base > 1.0, op, ": the base must exceed 1, got ", base);
  const std::int64_t B = q.dim(0), H = q.dim(1), Dh = q.dim(2);
  if (q.is_cpu()) {
    const std::int32_t* p = positions.data<std::int32_t>();
    for (std::int64_t b = 0; b < B; ++b) {
      Tensor q_row = q.slice(b, b + 1).reshape({H, Dh});
      rotary_at_position(q_row, p[b], base, q_row);
      Tensor key_row = cache_rows(keys, b, p[b] + 1).slice(p[b], p[b] + 1).reshape({H, Dh});
      rotary_at_position(k.slice(b, b + 1).reshape({H, Dh}), p[b], base, key_row);
      cache_rows(values, b, p[b] + 1).slice(p[b], p[b] + 1).copy_from(v.slice(b, b + 1));
    }
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("append_to_cache");
  cuda::append_to_cache(q.dtype(), q.raw_data(), k.raw_data(), v.raw_data(), positions.data<std::int32_t>(), base, B,
                        H, Dh, keys.dim(1), keys.raw_data(), values.raw_data(), current_stream());
#else
  no_cuda_kernel(op);
#endif
}

void attention_decode_cached(const Tensor& q, const Tensor& keys, const Tensor& values, const Tensor& positions,
                             Tensor& out) {
  const char* op = "attention_decode_cached";
  require_same_device(op, {&q, &keys, &values, &positions, &out});
  check_cached(op, q, keys, values, positions);
  check_shape(out, q.shape(), "attention_decode_cached out (q's shape)");
  check_dtype(out, q.dtype(), "attention_decode_cached out (q's dtype)");
  const std::int64_t B = q.dim(0), H = q.dim(1), Dh = q.dim(2);
  if (q.is_cpu()) {
    const std::int32_t* p = positions.data<std::int32_t>();
    for (std::int64_t b = 0; b < B; ++b) {
      Tensor out_row = out.slice(b, b + 1).reshape({H, Dh});
      attention_decode(q.slice(b, b + 1).reshape({H, Dh}), cache_rows(keys, b, p[b] + 1),
                       cache_rows(values, b, p[b] + 1), out_row);
    }
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("attention_decode_cached");
  cuda::attention_decode_cached(q.dtype(), q.raw_data(), keys.raw_data(), values.raw_data(),
                                positions.data<std::int32_t>(), B, H, Dh, keys.dim(1), out.raw_data(),
                                current_stream());
#else
  no_cuda_kernel(op);
#endif
}

void advance_positions(Tensor& positions) {
  BIRDIE_CHECK(positions.rank() == 1, "advance_positions: positions must be [rows], got ", positions.describe());
  check_dtype(positions, DType::i32, "advance_positions positions");
  if (positions.is_cpu()) {
    std::int32_t* p = positions.data<std::int32_t>();
    for (std::int64_t b = 0; b < positions.dim(0); ++b) ++p[b];
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  cuda::advance_positions(positions.data<std::int32_t>(), positions.dim(0), current_stream());
#else
  no_cuda_kernel("advance_positions");
#endif
}

}  // namespace birdie::kernels
