// Hawk's temporal block one token at a time, for recurrent generation (docs/method.md §5): the
// short convolution (kernels/conv1d.h) and the RG-LRU (kernels/rglru.h) after the prompt
// and <sg> went through the full pass. As with the gated scan (kernels/scan_step.h), a new
// token is causal: only the forward channels carry anything from earlier tokens. In a
// bidirectional block the reverse half of the convolution sees a suffix token alone (its
// k = 0 term) and the reverse half of the RG-LRU has a = 0 there, so its output is just the
// token's drive term i ⊙ x. Each step is O(K·C) whatever the prompt length.
//
// dtypes: x, gates, y (and the convolution's x and window) f32, f64 or bf16 (f32 or bf16 on
// the GPU); lambda rglru_lambda_dtype(x's dtype); the RG-LRU state rglru_state_dtype(x's
// dtype): f32 under bf16 activations, like the full scan's recurrence. The convolution's
// window holds inputs, so it has its x's dtype.
#pragma once

#include "engine/tensor.h"
#include "kernels/rglru.h"

namespace birdie::kernels {

inline DType rglru_state_dtype(DType input_dtype) { return input_dtype == DType::bf16 ? DType::f32 : input_dtype; }

// The RG-LRU state of the forward channels after the last token of each row of a full scan
// (x [B, T, C], gates [B, T, 2C], lambda [C], reset [B, T] as in kernels/rglru.h); reverse
// channels are set to 0 (unused by the steps). state: [B, C], written.
void rglru_final_state(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                       ScanDirection direction, Tensor& state);

// One causal RG-LRU step: the new token's x [B, C] and gates [B, 2C] ([r | i] as in
// kernels/rglru.h), state [B, C] read and updated (forward channels), y [B, C] written.
void rglru_step(const Tensor& x, const Tensor& gates, const Tensor& lambda, Tensor& state, ScanDirection direction,
                Tensor& y);

// One causal step of the depthwise convolution: x [B, C] the new token's input, weight
// [K, C], bias [C], window [B, K-1, C] the previous K-1 inputs (oldest first; zeros where
// the row had fewer), read and shifted by one to end with x; y [B, C] written:
//     y = bias + weight[0] ⊙ x + Σ_{k=1}^{K-1} weight[k] ⊙ window[K-1-k]
// on the forward channels, bias + weight[0] ⊙ x on a bidirectional block's reverse half.
void conv1d_step(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& window,
                 ScanDirection direction, Tensor& y);

}  // namespace birdie::kernels
