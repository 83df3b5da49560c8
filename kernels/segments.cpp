#include "kernels/segments.h"

#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "kernels/cuda/segments.h"
#endif

namespace birdie::kernels {

Segments segments_of(const Tensor& reset) {
  BIRDIE_CHECK(reset.rank() == 2, "segments_of: the reset mask must be [batch, time], got ", reset.describe());
  check_dtype(reset, DType::i32, "segments_of reset mask");
  const std::int64_t B = reset.dim(0), T = reset.dim(1);
  Segments s{reset, Tensor::empty({2, B, T}, DType::i32, reset.device())};
  if (B * T == 0) return s;
  if (reset.is_cpu()) {
    const std::int32_t* r = reset.data<std::int32_t>();
    std::int32_t* start = s.bounds.data<std::int32_t>();
    std::int32_t* end = start + B * T;
    for (std::int64_t b = 0; b < B; ++b) {
      std::int32_t first = 0;
      for (std::int64_t t = 0; t < T; ++t) {
        if (t > 0 && (r[b * T + t] & 1)) first = static_cast<std::int32_t>(t);
        start[b * T + t] = first;
      }
      std::int32_t last = static_cast<std::int32_t>(T);
      for (std::int64_t t = T - 1; t >= 0; --t) {
        end[b * T + t] = last;
        if (t > 0 && (r[b * T + t] & 1)) last = static_cast<std::int32_t>(t);
      }
    }
    return s;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_CHECK(T < (std::int64_t{1} << 31), "segments_of: time ", T, " exceeds the i32 segment bounds");
  std::int32_t* start = s.bounds.data<std::int32_t>();
  cuda::segment_bounds(reset.data<std::int32_t>(), B, T, start, start + B * T, current_stream());
  return s;
#else
  no_cuda_kernel("segments_of");
#endif
}

void check_segments(const char* op, const Segments& s, std::int64_t B, std::int64_t T, Device device) {
  require_same_device(op, {&s.reset, &s.bounds});
  BIRDIE_CHECK(s.reset.device() == device, op, ": the segments live on another device than the operands");
  check_shape(s.reset, {B, T}, "reset mask [batch, time]");
  check_dtype(s.reset, DType::i32, "reset mask");
  check_shape(s.bounds, {2, B, T}, "segment bounds [2, batch, time] (kernels::segments_of)");
  check_dtype(s.bounds, DType::i32, "segment bounds");
}

}  // namespace birdie::kernels
