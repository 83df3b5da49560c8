// Differentiable ops: each computes its result with the kernels of kernels/ and, when an
// input requires a gradient, records its backward rule on the tape (autograd/tape.h).
// The forward call and its backward rule sit together in autograd/ops/<op>.cpp, the file
// named after the op (rmsnorm → autograd/ops/rmsnorm.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "kernels/attention.h"
#include "kernels/scan.h"

namespace birdie::autograd {

// op(a) · op(b), rank 2 or batched rank 3 (see kernels/matmul.h).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// x [..., in] · weightᵀ (+ bias), weight [out, in] as in PyTorch's Linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// residual + linear(x, weight): a residual connection inside the product's own pass.
Tensor add_linear(const Tensor& residual, const Tensor& x, const Tensor& weight);
// linear(x, weight) cut along its output features into parts [..., widths[k]] (the widths,
// each ≥ 1, sum to weight's rows), each part its own product on its rows of the weight: a
// fused projection's pieces come out contiguous, with no column copies either way. Hawk
// takes its temporal branch's two inputs from one weight with it (model/hawk/hawk_block.h).
std::vector<Tensor> linear_parts(const Tensor& x, const Tensor& weight, const std::vector<std::int64_t>& widths);

// b broadcasts when its shape is a trailing part of a's.
Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, double factor);
Tensor sigmoid(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact form, x · Φ(x)
// gelu(a) ⊙ b in one pass each way (kernels/gated_gelu.h).
Tensor gelu_mul(const Tensor& a, const Tensor& b);
// gelu(x[..., :M]) ⊙ x[..., M:] for x [..., 2M]: a fused up-projection's halves, unsplit.
Tensor geglu(const Tensor& x);
// Sum of all elements, shape [1] (f32 for bf16 x), computed without leaving the device.
Tensor sum(const Tensor& x);
// A view with another shape; the gradient flows back through it.
Tensor reshape(const Tensor& x, const Shape& shape);

// The fused gated scan (kernels/scan.h): proj [B, T, 4N], reset [B, T] → y [B, T, N].
Tensor gated_scan(const Tensor& proj, const Tensor& reset, kernels::ScanDirection direction);
// Hawk's depthwise causal convolution with resets (kernels/conv1d.h): x [B, T, C],
// weight [K, C], bias [C] (x's dtype), reset [B, T] → y [B, T, C].
Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& reset,
                     kernels::ScanDirection direction);
// Hawk's RG-LRU scan, gates fused (kernels/rglru.h): x [B, T, C] (the drive), gates
// [B, T, 2C] (the recurrence and input gates' pre-activations), lambda [C] (f32; f64 with
// f64 inputs), reset [B, T] → y [B, T, C]: h, or GeLU(out_gate) ⊙ h with the block's output
// gate [B, T, C] folded in.
Tensor rglru_scan(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                  kernels::ScanDirection direction, const Tensor& out_gate = Tensor());
// Softmax attention over packed rows (kernels/attention.h): q, k, v [B, T, H, Dh]
// (contiguous, heads side by side), reset [B, T] (i32) → [B, T, H, Dh]; scale 1/sqrt(Dh);
// causal, or prefix-LM (the prompt bidirectional, the suffix causal); no attention across
// segments. Gradients for q, k, v (the backward recomputes the probabilities).
// `segments` (kernels::segments_of(reset)) once per batch serves every attention and
// rotary call of the step, forward and backward; the `reset` forms compute their own.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const kernels::Segments& segments,
                 kernels::AttentionMask mask);
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& reset,
                 kernels::AttentionMask mask);
// Rotary position embedding (kernels/rotary.h): x [B, T, H, Dh] (Dh even) rotated by the
// position within its segment (restarting at every sample), rotate-half pairs (d, d + Dh/2).
Tensor rotary(const Tensor& x, const kernels::Segments& segments, double base = 10000);
Tensor rotary(const Tensor& x, const Tensor& reset, double base = 10000);
// RMSNorm over the last dimension.
Tensor rmsnorm(const Tensor& x, const Tensor& weight, double eps = 1e-5);
// table [V, D], ids [...] (i32) → [..., D].
Tensor embedding(const Tensor& table, const Tensor& ids);

struct CrossEntropy {
  Tensor loss;          // [1]: weight · mean over counted rows (0 when none are counted)
  Tensor row_loss;      // [rows]: per-row loss, 0 on ignored rows (no gradient)
  std::int64_t counted;  // rows whose target is not ignored
};
struct CrossEntropyOptions {
  // The number of counted targets when the caller knows it (a packed batch counts them on
  // the host): the call then never waits for the device. -1: counted (and validated) here,
  // which copies GPU targets to the host.
  std::int64_t counted = -1;
  // loss = weight · mean: a micro-batch's share of a step's loss, folded into the gradient
  // written in the same pass (no extra pass over the logits' gradient for it).
  double weight = 1.0;
};
// logits [rows, V], targets [rows] (i32; kernels::ignore_index rows are skipped). Loss and
// gradient come from one kernel pass and stay on the device.
CrossEntropy cross_entropy(const Tensor& logits, const Tensor& targets,
                           const CrossEntropyOptions& options = {});

}  // namespace birdie::autograd
