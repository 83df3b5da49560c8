// The gated scan of the Gated SSM (docs/method.md §5), one fused op.
//
// Input `proj` [B, T, 4N] holds, per token, the pre-activations of four gates side by
// side, channels contiguous: i = proj[..., 0:N], f = [N:2N], z = [2N:3N], o = [3N:4N].
// Output y [B, T, N] = GeLU(o) ⊙ h with
//     h_t = σ(f_t) ⊙ h_{t-1} + σ(i_t) ⊙ z_t              (state in f32, f64 in checks)
//
// `reset` [B, T] (i32) is a bit set per token, written by the packer:
//     bit 0 (value 1): the first token of a sample (segment start);
//     bit 1 (value 2): a causal position (the suffix: <sg> and the label).
// A sample with an empty prompt starts with a causal <sg>, so its first token has 3.
//
// Causal scan: all N channels run left to right, the forget gate forced to 0 where
// bit 0 is set, so no state enters a sample from the one before.
// Bidirectional scan: channels [0, N/2) are that causal scan; channels [N/2, N) run right
// to left, h_t = σ(f_t) ⊙ h_{t+1} + σ(i_t) ⊙ z_t, with the forget gate forced to 0 where
// bit 1 is set (a suffix token sees only itself) and at the last token of each segment
// (t = T-1 or reset[t+1] has bit 0), so no state leaves a sample backwards either.
// N must be even for a bidirectional scan.
#pragma once

#include "engine/tensor.h"

namespace birdie::kernels {

enum class ScanDirection { causal, bidirectional };

namespace reset_bits {
constexpr int segment_start = 1;
constexpr int causal = 2;
}  // namespace reset_bits

// Writes y and returns what the backward pass needs. Its layout is the backend's own
// (the CPU reference keeps every state, [B, T, N], in proj's dtype or f32 for bf16 proj;
// the GPU keeps only the state entering each chunk of kernels::cuda::scan_chunk_length
// steps, f32 [B, chunks, N]) and it must be passed back unchanged to gated_scan_backward.
// dtypes (proj, y, dy, dproj alike): f32 or bf16 on both devices, state and math in f32
// (the CPU emulates bf16: the f32 reference on widened values, outputs rounded); f64 on
// the CPU.
Tensor gated_scan_forward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                          Tensor& y);
// Writes dproj [B, T, 4N] (overwritten, not accumulated).
void gated_scan_backward(const Tensor& proj, const Tensor& reset, ScanDirection direction,
                         const Tensor& saved, const Tensor& dy, Tensor& dproj);

}  // namespace birdie::kernels
