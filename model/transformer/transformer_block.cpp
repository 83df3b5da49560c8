#include "model/transformer/transformer_block.h"

#include "autograd/ops.h"

namespace birdie::model {

void append_transformer_block_specs(std::vector<autograd::ParameterSpec>& specs, const std::string& prefix,
                                    std::int64_t dim, std::int64_t mlp_hidden) {
  specs.push_back({prefix + "attention_norm.weight", {dim}, false});
  specs.push_back({prefix + "attention.q_proj.weight", {dim, dim}, true});
  specs.push_back({prefix + "attention.k_proj.weight", {dim, dim}, true});
  specs.push_back({prefix + "attention.v_proj.weight", {dim, dim}, true});
  specs.push_back({prefix + "attention.out_proj.weight", {dim, dim}, true});
  specs.push_back({prefix + "mlp_norm.weight", {dim}, false});
  specs.push_back({prefix + "mlp.gate_proj.weight", {mlp_hidden, dim}, true});
  specs.push_back({prefix + "mlp.up_proj.weight", {mlp_hidden, dim}, true});
  specs.push_back({prefix + "mlp.out_proj.weight", {dim, mlp_hidden}, true});
}

TransformerBlockWeights transformer_block_weights(const autograd::ParameterSet& parameters,
                                                  const std::string& prefix) {
  auto get = [&](const char* name) { return parameters.compute(prefix + name); };
  return {get("attention_norm.weight"), get("attention.q_proj.weight"), get("attention.k_proj.weight"),
          get("attention.v_proj.weight"), get("attention.out_proj.weight"), get("mlp_norm.weight"),
          get("mlp.gate_proj.weight"), get("mlp.up_proj.weight"), get("mlp.out_proj.weight")};
}

QueryKeyValue transformer_query_key_value(const TransformerBlockWeights& w, const Tensor& x, AttentionHeads heads,
                                          double norm_eps) {
  namespace ag = autograd;
  const Tensor u = ag::rmsnorm(x, w.attention_norm, norm_eps);
  const Shape shape{x.dim(0), x.dim(1), heads.heads, heads.head_dim};
  return {ag::reshape(ag::linear(u, w.q_proj), shape), ag::reshape(ag::linear(u, w.k_proj), shape),
          ag::reshape(ag::linear(u, w.v_proj), shape)};
}

Tensor transformer_attention_residual(const TransformerBlockWeights& w, const Tensor& x, const Tensor& attended) {
  namespace ag = autograd;
  return ag::add_linear(x, ag::reshape(attended, x.shape()), w.attention_out);
}

Tensor transformer_mlp_residual(const TransformerBlockWeights& w, const Tensor& x, double norm_eps) {
  namespace ag = autograd;
  const Tensor u = ag::rmsnorm(x, w.mlp_norm, norm_eps);
  const Tensor hidden = ag::gelu_mul(ag::linear(u, w.gate_proj), ag::linear(u, w.up_proj));
  return ag::add_linear(x, hidden, w.mlp_out);
}

Tensor transformer_block(const TransformerBlockWeights& w, const Tensor& x, const kernels::Segments& segments,
                         kernels::AttentionMask mask, AttentionHeads heads, double rope_base, double norm_eps) {
  namespace ag = autograd;
  const auto [q, k, v] = transformer_query_key_value(w, x, heads, norm_eps);
  const Tensor attended =
      ag::attention(ag::rotary(q, segments, rope_base), ag::rotary(k, segments, rope_base), v, segments, mask);
  return transformer_mlp_residual(w, transformer_attention_residual(w, x, attended), norm_eps);
}

}  // namespace birdie::model
