#include "kernels/adamw.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "kernels/cpu/adamw.h"
#include "kernels/device_dispatch.h"

#ifdef BIRDIE_WITH_CUDA
#include "engine/cuda_runtime.h"
#include "engine/nvtx.h"
#include "kernels/cuda/adamw.h"
#endif

namespace birdie::kernels {

namespace {

void check_status(const Tensor& status, const Tensor& on, const char* what) {
  require_same_device(what, {&status, &on});
  check_shape(status, {adamw_status::size}, what);
  check_dtype(status, DType::f64, what);
}

}  // namespace

AdamWSegments::AdamWSegments(std::vector<DecaySegment> segments, std::int64_t elements, Device device)
    : segments_(std::move(segments)), elements_(elements), device_(device) {
  std::int64_t covered = 0;
  for (const DecaySegment& s : segments_) {
    BIRDIE_CHECK(s.offset == covered && s.length >= 0, "adamw_step: segments must tile the "
                 "buffer in order; segment at offset ", s.offset, " expected at ", covered);
    covered += s.length;
  }
  BIRDIE_CHECK(covered == elements_, "adamw_step: segments cover ", covered, " of ", elements_, " elements");
  if (device_ == Device::cpu || segments_.empty()) return;
  BIRDIE_CHECK(segments_.size() <= INT32_MAX, "adamw_step: too many segments");
  // The starts (i64) then the decay flags (u8), in one buffer: one upload, now.
  const std::int64_t count = static_cast<std::int64_t>(segments_.size());
  Tensor table = Tensor::empty({(count * 9 + 3) / 4}, DType::i32);
  auto* bytes = static_cast<unsigned char*>(table.raw_data());
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t start = segments_[i].offset;
    std::memcpy(bytes + i * 8, &start, 8);
    bytes[count * 8 + i] = segments_[i].decay ? 1 : 0;
  }
  device_table_ = table.to(device_);
}

void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& hyper,
                Tensor* compute_copy) {
  BIRDIE_CHECK(hyper.step >= 1, "adamw_step: step is 1-based, got ", hyper.step);
  // The status a host decision would leave (adamw_status::decide with these values).
  double values[adamw_status::size] = {};
  values[adamw_status::steps] = double(hyper.step);
  values[adamw_status::grad_scale] = hyper.grad_scale;
  values[adamw_status::correction1] = 1.0 - std::pow(hyper.beta1, double(hyper.step));
  values[adamw_status::correction2] = 1.0 - std::pow(hyper.beta2, double(hyper.step));
  const Tensor status = Tensor::from_values<double>(std::span<const double>(values), {adamw_status::size});
  // (On a GPU the upload is staged before cudaMemcpyAsync returns, so the host copy may go.)
  adamw_step(params, grads, m, v, AdamWSegments(segments, params.numel(), params.device()), hyper,
             params.is_cpu() ? status : status.to(params.device()), compute_copy);
}

void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const AdamWSegments& segments, const AdamWHyper& hyper,
                const Tensor& status, Tensor* compute_copy) {
  require_same_device("adamw_step", {&params, &grads, &m, &v});
  for (const Tensor* t : std::initializer_list<const Tensor*>{&grads, &m, &v}) {
    check_shape(*t, params.shape(), "adamw_step");
    check_dtype(*t, params.dtype(), "adamw_step");
  }
  check_status(status, params, "adamw_step status");
  BIRDIE_CHECK(segments.elements() == params.numel() && segments.device() == params.device(),
               "adamw_step: the segments were prepared for ", segments.elements(), " elements on ",
               device_name(segments.device()), ", the parameters are ", params.describe());
  if (compute_copy) {
    require_same_device("adamw_step compute copy", {&params, compute_copy});
    check_shape(*compute_copy, params.shape(), "adamw_step compute copy");
    check_dtype(*compute_copy, DType::bf16, "adamw_step compute copy");
  }
  if (params.is_cpu()) {
    const double* s = status.data<double>();
    if (s[adamw_status::skipped] != 0.0) return;  // a skipped step writes nothing
    cpu::adamw_step(params, grads, m, v, segments.segments(), hyper, s[adamw_status::grad_scale],
                    s[adamw_status::correction1], s[adamw_status::correction2]);
    if (compute_copy) {
      // Round to nearest even, as the GPU kernel does.
      const std::vector<float> values = params.to_vector<float>();
      bfloat16* out = compute_copy->data<bfloat16>();
      for (std::size_t i = 0; i < values.size(); ++i) out[i] = bfloat16::from_float(values[i]);
    }
    return;
  }
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("adamw_step");
  check_dtype(params, DType::f32, "adamw_step (CUDA) parameters");
  if (segments.segments().empty()) return;
  // The table was uploaded when the segments were prepared: the step copies nothing.
  const std::int64_t count = static_cast<std::int64_t>(segments.segments().size());
  const auto* device_bytes = static_cast<const unsigned char*>(segments.device_table().raw_data());
  const cuda::AdamWScalars scalars{hyper.lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weight_decay};
  cuda::adamw_step(params.data<float>(), grads.data<float>(), m.data<float>(), v.data<float>(),
                   params.numel(), reinterpret_cast<const std::int64_t*>(device_bytes),
                   device_bytes + count * 8, static_cast<int>(count), scalars, status.data<double>(),
                   compute_copy ? compute_copy->raw_data() : nullptr, current_stream());
#else
  no_cuda_kernel("adamw_step");
#endif
}

void adamw_decide(Tensor& status, double beta1, double beta2, double clip_norm) {
  check_status(status, status, "adamw_decide");
  if (status.is_cpu()) return adamw_status::decide(status.data<double>(), beta1, beta2, clip_norm);
#ifdef BIRDIE_WITH_CUDA
  BIRDIE_NVTX_RANGE("adamw_decide");
  cuda::adamw_decide(status.data<double>(), beta1, beta2, clip_norm, current_stream());
#else
  no_cuda_kernel("adamw_decide");
#endif
}

}  // namespace birdie::kernels
