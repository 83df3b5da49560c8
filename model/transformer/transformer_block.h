// One Transformer block (docs/method.md §5's retrieval ceiling), pre-norm:
//     x ← x + W_o · Attention(RoPE(W_q u), RoPE(W_k u), W_v u),   u = RMSNorm(x)
//     x ← x + W_down · (GeLU(W_gate u') ⊙ W_up u'),              u' = RMSNorm(x)
// H heads of width Dh = D / H; rotary positions restart at every packed sample; the
// attention is causal, or prefix-LM (the prompt reads itself both ways) in the
// bidirectional blocks (kernels/attention.h). No biases. Parameters, in this order:
//     attention_norm.weight [D], attention.q_proj.weight [D, D], attention.k_proj.weight
//     [D, D], attention.v_proj.weight [D, D], attention.out_proj.weight [D, D],
//     mlp_norm.weight [D], mlp.gate_proj.weight [M, D], mlp.up_proj.weight [M, D],
//     mlp.out_proj.weight [D, M]
// — 2D + 4D² + 3M·D (model/model_config.h). Separate projections rather than fused
// [3D, D] and [2M, D] ones: the engine's views are contiguous only, so a fused output
// could not be split into q, k, v (or gate and up) without a copy.
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "kernels/attention.h"
#include "model/model_config.h"

namespace birdie::model {

// Views of one block's parameters in a ParameterSet (the compute copy when there is one).
struct TransformerBlockWeights {
  Tensor attention_norm, q_proj, k_proj, v_proj, attention_out;
  Tensor mlp_norm, gate_proj, up_proj, mlp_out;
};

// Appends the block's parameters, named prefix + the names above; no weight decay on the
// norms.
void append_transformer_block_specs(std::vector<autograd::ParameterSpec>& specs, const std::string& prefix,
                                    std::int64_t dim, std::int64_t mlp_hidden);
TransformerBlockWeights transformer_block_weights(const autograd::ParameterSet& parameters,
                                                  const std::string& prefix);

// The attention's width: H heads of Dh channels.
struct AttentionHeads {
  std::int64_t heads, head_dim;
};

// The pieces of the block, shared with the KV-cache decoder:
//   the attention's q, k, v [B, T, H, Dh] from x [B, T, D], before the rotary embedding;
struct QueryKeyValue {
  Tensor q, k, v;
};
QueryKeyValue transformer_query_key_value(const TransformerBlockWeights& w, const Tensor& x, AttentionHeads heads,
                                          double norm_eps);
//   x + W_o · attended (attended [B, T, H, Dh]);
Tensor transformer_attention_residual(const TransformerBlockWeights& w, const Tensor& x, const Tensor& attended);
//   x + the gated MLP of RMSNorm(x).
Tensor transformer_mlp_residual(const TransformerBlockWeights& w, const Tensor& x, double norm_eps);

// The whole block over x [B, T, D] with the batch's segments (kernels::segments_of of the
// reset mask [B, T], computed once for all blocks).
Tensor transformer_block(const TransformerBlockWeights& w, const Tensor& x, const kernels::Segments& segments,
                         kernels::AttentionMask mask, AttentionHeads heads, double rope_base, double norm_eps);

}  // namespace birdie::model
