#include "kernels/scan_step.h"

#include "kernels/cpu/scan_step.h"
#include "kernels/device_dispatch.h"

namespace birdie::kernels {

void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state) {
  require_same_device("gated_scan_final_state", {&proj, &reset, &state});
  BIRDIE_CHECK(proj.rank() == 3 && proj.dim(2) % 4 == 0,
               "gated_scan_final_state: proj must be [batch, time, 4·state], got ", proj.describe());
  check_shape(reset, {proj.dim(0), proj.dim(1)}, "gated_scan_final_state reset mask");
  check_dtype(reset, DType::i32, "gated_scan_final_state reset mask");
  check_shape(state, {proj.dim(0), proj.dim(2) / 4}, "gated_scan_final_state state");
  check_dtype(state, proj.dtype(), "gated_scan_final_state state");
  if (proj.is_cpu()) return cpu::gated_scan_final_state(proj, reset, direction, state);
  no_cuda_kernel("gated_scan_final_state");
}

void gated_scan_step(const Tensor& proj, Tensor& state, ScanDirection direction, Tensor& y) {
  require_same_device("gated_scan_step", {&proj, &state, &y});
  BIRDIE_CHECK(proj.rank() == 2 && proj.dim(1) % 4 == 0,
               "gated_scan_step: proj must be [batch, 4·state], got ", proj.describe());
  for (const Tensor* t : std::initializer_list<const Tensor*>{&state, &y}) {
    check_shape(*t, {proj.dim(0), proj.dim(1) / 4}, "gated_scan_step");
    check_dtype(*t, proj.dtype(), "gated_scan_step");
  }
  if (proj.is_cpu()) return cpu::gated_scan_step(proj, state, direction, y);
  no_cuda_kernel("gated_scan_step");
}

}  // namespace birdie::kernels
