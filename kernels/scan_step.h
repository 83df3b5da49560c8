// The gated scan one token at a time, for recurrent generation (docs/method.md §5): after the
// prompt and <sg> went through the full scan, each new token updates only the causal
// (forward) channels; a bidirectional block's reverse channels see a suffix token alone
// (their forget gate is 0 there), so their state is just that token's drive term. Each
// step is O(N) whatever the prompt length.
//
// dtypes: proj f32, f64 or bf16 (f32 or bf16 on the GPU); y has proj's dtype; the state
// has gated_scan_state_dtype(proj's dtype): the recurrence stays in fp32 under bf16
// activations (§5 "recurrences fp32"), so a bf16 proj carries an f32 state.
#pragma once

#include "engine/tensor.h"
#include "kernels/scan.h"

namespace birdie::kernels {

inline DType gated_scan_state_dtype(DType proj_dtype) {
  return proj_dtype == DType::bf16 ? DType::f32 : proj_dtype;
}

// The state of the forward channels after the last token of each row of a full scan
// (proj [B, T, 4N], reset [B, T]); reverse channels are set to 0 (unused by the steps).
// state: [B, N], written.
void gated_scan_final_state(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                            Tensor& state);

// One causal step: proj [B, 4N] of the new token, state [B, N] read and updated,
// y [B, N] written (GeLU(o) ⊙ h).
void gated_scan_step(const Tensor& proj, Tensor& state, ScanDirection direction, Tensor& y);

}  // namespace birdie::kernels
