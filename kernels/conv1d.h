// Depthwise causal convolution with resets: the short convolution in front of Hawk's
// RG-LRU (docs/method.md §5). Like the scans, it restarts at every sample start, so no
// information crosses a segment boundary (docs/method.md §2).
//
// x [B, T, C], weight [K, C] (K ≥ 1, the width: 4 in Hawk), bias [C] → y [B, T, C]:
//     y_t = bias + Σ_{k=0}^{K-1} weight[k] ⊙ x_{t-k}
// where a term is kept only if t-k lies in t's segment. Segments are those of the scan's
// reset mask (kernels/scan.h): one starts at t = 0 and at every token whose bit 0 is set.
//
// Bidirectional (kernels::ScanDirection::bidirectional; C must be even): channels
// [0, C/2) are the causal convolution above; channels [C/2, C) look ahead instead,
//     y_t = bias + Σ_k weight[k] ⊙ x_{t+k}
// where a term is kept only if t+k lies in t's segment and, for k > 0, neither t nor t+k
// is a causal position (bit 1, the suffix). So a suffix token sees only itself (its k = 0
// term), the prompt never sees the suffix, and nothing crosses a segment boundary in either
// direction. (The rule looks at the two ends of a term only; the packer puts a sample's
// suffix after its prompt, so no prompt token sits between two suffix tokens.)
// Note that this is stricter than the reverse gated scan, whose last prompt token takes in
// the state of the first suffix token (<sg>): the convolution's look-ahead never does.
#pragma once

#include "engine/tensor.h"
#include "kernels/scan.h"

namespace birdie::kernels {

// dtypes: x, y, dy, dx alike: f32 or bf16 on both devices (math in f32; the CPU emulates
// bf16: the f32 reference on widened values, outputs rounded), f64 on the CPU. weight and
// bias have x's dtype. reset [B, T] i32.
void causal_conv1d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           const Tensor& reset, ScanDirection direction, Tensor& y);
// Writes dx (overwritten) and adds into dweight [K, C] and dbias [C] (accumulated, so
// micro-batches sum up). The CUDA backward takes widths K ≤ 16. dweight and dbias have x's dtype, or f32 with bf16 x (the sums
// over B·T then stay in f32).
void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& reset,
                            ScanDirection direction, const Tensor& dy, Tensor& dx,
                            Tensor& dweight, Tensor& dbias);

}  // namespace birdie::kernels
