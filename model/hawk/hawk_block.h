// One Hawk residual block (Griffin's recurrent block with the RG-LRU, docs/method.md §5), two
// pre-norm residual branches:
//     x ← x + TemporalMix(RMSNorm(x))
//     x ← x + GatedMLP(RMSNorm(x))
// TemporalMix, with u the normalized input, C the recurrence width (model.state), K the
// convolution width (model.conv_width):
//     [g | z] = W_in u                      W_in [2C, D], no bias (a product per half,
//                                           autograd::linear_parts: no column copies)
//     c       = conv1d(z)                   depthwise, causal (kernels/conv1d.h), [K, C] + bias [C]
//     [r | i] = W_gates c + b_gates         W_gates [2C, C], b_gates [2C]
//     h       = RG-LRU(c, [r | i]; Λ)       kernels/rglru.h, Λ [C]
//     out     = W_out (GeLU(g) ⊙ h)         W_out [D, C]; GeLU(g) ⊙ h is written by the
//                                           RG-LRU itself (its output gate), h never is
// GatedMLP, M = model.mlp_hidden: [a | b] = W_up u (W_up [2M, D], no bias), out =
// W_down (GeLU(a) ⊙ b) with W_down [D, M].
//
// Parameters, in this order, each name prefixed "blocks.{l}.":
//     temporal_norm.weight [D]            temporal.in_proj.weight [2C, D]
//     temporal.conv.weight [K, C]         temporal.conv.bias [C]
//     temporal.gates.weight [2C, C]       temporal.gates.bias [2C]
//     temporal.lambda [C]                 temporal.out_proj.weight [D, C]
//     mlp_norm.weight [D]                 mlp.in_proj.weight [2M, D]
//     mlp.out_proj.weight [D, M]
// = 2D + 3C·D + 2C² + (K + 4)·C + 3M·D (ModelConfig::block_parameter_count). No weight
// decay on the norms, the biases and Λ.
//
// The gate matrices are dense [2C, C], not Griffin's block-diagonal ones (H blocks of
// C/H × C/H): a block-diagonal product needs a batched or grouped GEMM this engine does not
// have, while a dense one is a single linear on the existing GEMM; dense gates are a superset
// (block-diagonal is dense with zeros) and cost C² more parameters and FLOPs per gate,
// small next to the D-wide projections at the sizes we train, and counted in the
// parameter-matched configs (configs/model/hawk-*.toml).
//
// A bidirectional block (model.bidirectional) splits the channels of both the
// convolution and the RG-LRU in halves: [0, C/2) causal, [C/2, C) right to left (the
// reset rules of kernels/conv1d.h and kernels/rglru.h); the gate branch g and the MLP are
// per token.
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "kernels/scan.h"
#include "model/initialization.h"
#include "model/model_config.h"

namespace birdie::model {

// Views of one block's parameters: the weights the forward pass reads (the compute copy
// when the set has one), except Λ, which is always the f32 (f64) master view: the RG-LRU
// takes Λ in f32 under bf16 activations (kernels/rglru.h).
struct HawkBlockWeights {
  Tensor temporal_norm, in_proj, conv_weight, conv_bias, gates_weight, gates_bias, lambda, out_proj;
  Tensor mlp_norm, mlp_in_proj, mlp_out_proj;
  std::int64_t state = 0;  // C
};

void append_hawk_block_specs(std::vector<autograd::ParameterSpec>& specs, const std::string& prefix,
                             const ModelConfig& config);
HawkBlockWeights hawk_block_weights(const autograd::ParameterSet& parameters, const std::string& prefix);

// The block's own initial values (model/initialization.h):
//   "*temporal.lambda": Griffin's start, a^c = σ(Λ)^8 spread evenly over [0.9, 0.999] across
//     the channels of each half of the state (both halves of a bidirectional block get the
//     same spread), Λ = logit((a^c)^(1/8)); so each channel's decay at r = 1 lies between
//     0.9 and 0.999 per token: memories of about 10 to 1000 tokens from the first step.
//     Evenly spaced rather than drawn: every channel width gets the whole range, and the
//     start does not depend on the seed.
//   "*temporal.conv.weight": truncated normal with std 1/sqrt(K), the fan-in of one output
//     of a depthwise convolution (the generic rule would take C, the second dimension).
OwnInitialValues hawk_initial_values();

// The pieces of the temporal branch, shared with recurrent generation:
//   [g, z] = hawk_temporal_input(w, x), c = conv1d(z),
//   gates = hawk_gates(w, c)            ([r | i], [..., 2C]),
//   gated = RG-LRU(c, gates) with output gate g (GeLU(g) ⊙ h; a decoder's step takes h and
//   applies the gate itself), x = hawk_temporal_output(w, x, gated), x = hawk_mlp(w, x).
std::vector<Tensor> hawk_temporal_input(const HawkBlockWeights& w, const Tensor& x, double norm_eps);
Tensor hawk_gates(const HawkBlockWeights& w, const Tensor& c);
Tensor hawk_temporal_output(const HawkBlockWeights& w, const Tensor& x, const Tensor& gated);
Tensor hawk_mlp(const HawkBlockWeights& w, const Tensor& x, double norm_eps);
// The whole block over x [B, T, D] with the reset mask [B, T].
Tensor hawk_block(const HawkBlockWeights& w, const Tensor& x, const Tensor& reset, kernels::ScanDirection direction,
                  double norm_eps);

}  // namespace birdie::model
