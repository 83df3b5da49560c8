// The RG-LRU of Hawk (Griffin's Real-Gated Linear Recurrent Unit, docs/method.md §5), one fused
// op: the gates are computed where the scan loads its inputs.
//
// Inputs, per token, channels contiguous: `x` [B, T, C] the drive (the short convolution's
// output) and `gates` [B, T, 2C] the gates' pre-activations,
//     r = gates[..., 0:C)     the recurrence gate's,
//     i = gates[..., C:2C)    the input gate's;
// two operands, each read where its producer wrote it (no concatenated copy either way);
// and `lambda` [C] is the decay parameter Λ. With c = 8 (rglru_c):
//     r_t = σ(r), i_t = σ(i),
//     log a_t = −c · r_t · softplus(−Λ)          (a_t = σ(Λ)^(c·r_t), in log space)
//     h_t = a_t ⊙ h_{t-1} + sqrt(1 − a_t²) ⊙ (i_t ⊙ x_t),   y = h  [B, T, C]
// State and math in f32 (f64 in checks).
//
// sqrt(1 − a²) is computed as sqrt(−expm1(2 · log a)): with a near 1 (Λ large, r small)
// 1 − a² computed from a rounded a loses every digit (a = 1 − 1e-8 rounds to 1 in f32),
// while expm1 keeps the relative accuracy of log a. Its derivative with respect to log a,
// −a² / sqrt(1 − a²), is taken with the same accurate root; it grows as a → 1 because the
// function itself has a square-root corner at a = 1. Where 1 − a² is exactly 0 (log a = 0:
// r or softplus(−Λ) underflowed to 0) the drive term is 0 and its gradient is taken as 0,
// not ∞ · 0 = NaN.
//
// Resets are those of the gated scan, copied from kernels/scan.h: a_t is forced to 0 (so
// sqrt(1 − a_t²) = 1) where no state may flow in. Causal: all C channels run left to
// right, a_t = 0 where bit 0 of reset[t] is set (and at t = 0, so every row starts like a
// segment whatever its first bit; the packer sets it there anyway). Bidirectional: channels
// [0, C/2) are that causal scan; channels [C/2, C) run right to left, h_t = a_t ⊙ h_{t+1} +
// sqrt(1 − a_t²) ⊙ (i_t ⊙ x_t), with a_t = 0 where bit 1 is set (a suffix token sees only
// itself) and at the last token of each segment (t = T-1 or reset[t+1] has bit 0). C must
// be even for a bidirectional scan.
#pragma once

#include "engine/tensor.h"
#include "kernels/scan.h"

namespace birdie::kernels {

constexpr double rglru_c = 8.0;

// lambda's dtype (and dlambda's): f32 for f32 and bf16 inputs, f64 for f64 inputs (the CPU
// checks). Λ stays f32 with bf16 activations because the decay is sensitive to it: at
// Λ ≈ 9 (a ≈ 0.999) a bf16 step of Λ (1/16) moves 1 − σ(Λ) by 6%.
DType rglru_lambda_dtype(DType input_dtype);

// Hawk's output gate folded into the scan, as the gated scan folds its GeLU(o): with `gate`
// [B, T, C] (x's dtype) defined, y = GeLU(gate) ⊙ h instead of h, so h is never written or
// read back; the backward then takes dy as y's gradient and also writes dgate [B, T, C].
// Undefined (the default): y = h.
struct RglruOutputGate {
  Tensor gate;
  Tensor dgate;  // backward only
};

// Writes y [B, T, C] and returns what the backward pass needs, in the backend's own layout
// (the CPU reference keeps every state, [B, T, C], in the inputs' dtype or f32 for bf16
// inputs; the GPU keeps the state entering each chunk of kernels::cuda::rglru_chunk_length
// steps, f32 [B, chunks, C]); pass it back unchanged to rglru_scan_backward.
// dtypes: x, gates, y, dy, dx, dgates alike: f32 or bf16 on both devices (the CPU emulates
// bf16: the f32 reference on widened values, outputs rounded), f64 on the CPU. reset [B, T] i32.
Tensor rglru_scan_forward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                          ScanDirection direction, Tensor& y, const RglruOutputGate& out = {});
// Writes dx [B, T, C] and dgates [B, T, 2C] (overwritten; and out.dgate with out.gate) and
// adds into dlambda [C] (accumulated over B and T, and over calls: micro-batches sum up).
void rglru_scan_backward(const Tensor& x, const Tensor& gates, const Tensor& lambda, const Tensor& reset,
                         ScanDirection direction, const Tensor& saved, const Tensor& dy, Tensor& dx, Tensor& dgates,
                         Tensor& dlambda, const RglruOutputGate& out = {});

// Validates the RG-LRU's x [B, T, C] (rank-2 [B, C] for one token: time_axis false), gates
// and lambda for `op`; returns C.
std::int64_t check_rglru_inputs(const char* op, const Tensor& x, const Tensor& gates, const Tensor& lambda,
                                bool time_axis = true);

}  // namespace birdie::kernels
