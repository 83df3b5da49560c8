#include "model/gated_ssm_lm.h"

#include <cmath>
#include <string>

#include "autograd/recompute.h"
#include "engine/nvtx.h"

namespace birdie::model {

namespace {
std::string block_name(std::int64_t layer, const char* leaf) {
  return "blocks." + std::to_string(layer) + "." + leaf;
}
}  // namespace

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const GatedSsmConfig& config) {
  config.validate();
  const std::int64_t V = config.vocab, D = config.dim, N = config.state;
  std::vector<autograd::ParameterSpec> specs;
  specs.push_back({"embedding.weight", {V, D}, true});
  for (std::int64_t l = 0; l < config.layers; ++l) {
    specs.push_back({block_name(l, "norm.weight"), {D}, false});
    // Rows [N, 2N) are W_f: no weight decay on the forget gate (§5).
    specs.push_back({block_name(l, "in_proj.weight"), {4 * N, D}, true, N, 2 * N});
    specs.push_back({block_name(l, "in_proj.bias"), {4 * N}, false});
    specs.push_back({block_name(l, "out_proj.weight"), {D, N}, true});
  }
  specs.push_back({"final_norm.weight", {D}, false});
  if (!config.tie_embeddings) specs.push_back({"head.weight", {V, D}, true});
  return specs;
}

void initialize_gated_ssm(autograd::ParameterSet& parameters, const GatedSsmConfig& config,
                          RandomGenerator& rng) {
  const double output_scale = 1.0 / std::sqrt(2.0 * double(config.layers));
  for (const autograd::ParameterSpec& spec : parameters.specs()) {
    Tensor values = Tensor::empty(spec.shape, DType::f64);
    const bool is_norm = spec.name.ends_with("norm.weight");
    const bool is_bias = spec.name.ends_with(".bias");
    if (is_norm || is_bias) {
      values = Tensor::full(spec.shape, is_norm ? 1.0 : 0.0, DType::f64);
    } else {
      const bool is_embedding = spec.name == "embedding.weight";
      const double fan_in = is_embedding ? 1.0 : double(spec.shape[1]);
      double std = 1.0 / std::sqrt(fan_in);
      if (spec.name.ends_with("out_proj.weight")) std *= output_scale;
      fill_truncated_normal(values, rng, std);
    }
    parameters[spec.name].copy_from(values.to(parameters.values().dtype()).to(parameters.values().device()));
  }
}

GatedSsmLm::GatedSsmLm(const GatedSsmConfig& config, DType dtype, Device device,
                       std::uint64_t seed)
    : config_(config), parameters_(gated_ssm_parameter_specs(config), dtype, device) {
  RandomGenerator rng(seed);
  initialize_gated_ssm(parameters_, config_, rng);
}

Tensor GatedSsmLm::embed(const Tensor& tokens) const {
  return autograd::embedding(parameters_["embedding.weight"], tokens);
}

Tensor GatedSsmLm::block_projection(std::int64_t layer, const Tensor& x) const {
  namespace ag = autograd;
  Tensor u = ag::rmsnorm(x, parameters_[block_name(layer, "norm.weight")], config_.norm_eps);
  return ag::linear(u, parameters_[block_name(layer, "in_proj.weight")],
                    parameters_[block_name(layer, "in_proj.bias")]);
}

Tensor GatedSsmLm::block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const {
  return autograd::add(x, autograd::linear(y, parameters_[block_name(layer, "out_proj.weight")]));
}

Tensor GatedSsmLm::head(const Tensor& x) const {
  namespace ag = autograd;
  Tensor h = ag::rmsnorm(x, parameters_["final_norm.weight"], config_.norm_eps);
  const Tensor& weight = config_.tie_embeddings ? parameters_["embedding.weight"] : parameters_["head.weight"];
  return ag::linear(ag::reshape(h, {-1, config_.dim}), weight);
}

Tensor GatedSsmLm::logits(const Tensor& tokens, const Tensor& reset) const {
  BIRDIE_NVTX_RANGE("gated_ssm_lm.forward");
  BIRDIE_CHECK(tokens.rank() == 2, "GatedSsmLm: tokens must be [batch, time], got ", tokens.describe());
  check_shape(reset, tokens.shape(), "GatedSsmLm reset mask");
  Tensor x = embed(tokens);
  for (std::int64_t l = 0; l < config_.layers; ++l) {
    auto block = [this, l, &reset](const std::vector<Tensor>& in) {
      return block_output(l, in[0], autograd::gated_scan(block_projection(l, in[0]), reset, direction(l)));
    };
    x = recompute_blocks_ ? autograd::recompute(block, {x}) : block({x});
  }
  return head(x);
}

autograd::CrossEntropy GatedSsmLm::loss(const Tensor& tokens, const Tensor& targets,
                                        const Tensor& reset) const {
  check_shape(targets, tokens.shape(), "GatedSsmLm targets");
  return autograd::cross_entropy(logits(tokens, reset), targets.reshape({-1}));
}

}  // namespace birdie::model
