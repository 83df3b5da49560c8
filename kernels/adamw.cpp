#include "kernels/adamw.h"

#include "kernels/cpu/adamw.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

void adamw_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v,
                const std::vector<DecaySegment>& segments, const AdamWHyper& hyper) {
  require_same_device("adamw_step", {&params, &grads, &m, &v});
  for (const Tensor* t : std::initializer_list<const Tensor*>{&grads, &m, &v}) {
    check_shape(*t, params.shape(), "adamw_step");
    check_dtype(*t, params.dtype(), "adamw_step");
  }
  BIRDIE_CHECK(hyper.step >= 1, "adamw_step: step is 1-based, got ", hyper.step);
  std::int64_t covered = 0;
  for (const DecaySegment& s : segments) {
    BIRDIE_CHECK(s.offset == covered && s.length >= 0, "adamw_step: segments must tile the "
                 "buffer in order; segment at offset ", s.offset, " expected at ", covered);
    covered += s.length;
  }
  BIRDIE_CHECK(covered == params.numel(), "adamw_step: segments cover ", covered, " of ",
               params.numel(), " elements");
  if (params.is_cpu()) return cpu::adamw_step(params, grads, m, v, segments, hyper);
  no_cuda_kernel("adamw_step");
}

}  // namespace birdie::kernels
