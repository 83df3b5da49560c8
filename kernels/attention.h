// Softmax attention over packed rows (Transformer baseline), causal or prefix-LM, with the
// packer's reset bits as the mask (kernels/scan.h has the bits).
//
// Layout: q, k, v, out (and dout, dq, dk, dv) are separate contiguous [B, T, H, Dh]
// tensors: token-major, heads side by side, exactly what a linear projection
// [B, T, H·Dh] gives when reshaped (three projections, or a fused [B, T, 3·H·Dh] one
// split into three tensors: the engine's views are contiguous only, so no strided q/k/v).
// Scale 1/sqrt(Dh). lse [B, H, T] is the row log-sum-exp of the scaled, masked scores
// (head-major, so a head's rows are contiguous), saved for the backward pass.
//
// The mask, from reset [B, T] (i32):
//   a segment starts at t = 0 and at every token with bit 0 (reset_bits::segment_start);
//   query i sees key j iff they are in the same segment and
//     causal: j ≤ i;
//     prefix: j ≤ i, or both i and j are prompt tokens (bit 1, reset_bits::causal, clear):
//             the prompt reads itself both ways, the suffix is causal and sees the prompt.
// Nothing crosses a segment boundary in either direction. Every token sees itself, so no
// row is empty (padding, its own segment, attends within itself).
//
// dtypes: f32 or bf16 on both devices (scores, softmax and sums in f32; the CPU emulates
// bf16 by widening, outputs rounded once), f64 on the CPU. lse is f32 (f64 with f64 q).
#pragma once

#include "engine/tensor.h"
#include "kernels/segments.h"

namespace birdie::kernels {

enum class AttentionMask { causal, prefix };

// Writes out [B, T, H, Dh] and lse [B, H, T]. `segments` from segments_of(reset), computed
// once per batch and shared by every call of the step; the `reset` forms compute them for
// this call alone.
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Segments& segments,
                       AttentionMask mask, Tensor& out, Tensor& lse);
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                       AttentionMask mask, Tensor& out, Tensor& lse);
// From the forward's out and lse and the output's gradient dout, writes dq, dk, dv
// (overwritten, not accumulated). The probabilities are recomputed from q, k and lse
// (FlashAttention-2: D = rowsum(dout ⊙ out), dS = P ⊙ (dout·vᵀ − D)).
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Segments& segments,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv);
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                        AttentionMask mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, Tensor& dq, Tensor& dk, Tensor& dv);

// The dtype lse must have for q's dtype: f64 for f64, f32 otherwise.
DType attention_lse_dtype(DType q_dtype);

}  // namespace birdie::kernels
