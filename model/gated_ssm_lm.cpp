#include "model/gated_ssm_lm.h"

#include <cmath>
#include <string>

#include "autograd/gradients_final.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"

namespace birdie::model {

namespace {
std::string block_prefix(std::int64_t layer) { return "blocks." + std::to_string(layer) + "."; }
}  // namespace

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const GatedSsmConfig& config) {
  config.validate();
  std::vector<autograd::ParameterSpec> specs;
  specs.push_back({"embedding.weight", {config.vocab, config.dim}, true});
  for (std::int64_t l = 0; l < config.layers; ++l)
    append_gated_ssm_block_specs(specs, block_prefix(l), config.dim, config.state);
  specs.push_back({"final_norm.weight", {config.dim}, false});
  if (!config.tie_embeddings) specs.push_back({"head.weight", {config.vocab, config.dim}, true});
  return specs;
}

GatedSsmLm::GatedSsmLm(const GatedSsmConfig& config, DType dtype, Device device,
                       std::uint64_t seed, DType compute_dtype)
    : config_(config), parameters_(gated_ssm_parameter_specs(config), dtype, device) {
  RandomGenerator rng(seed);
  initialize_parameters(parameters_, config_.layers, rng, config_.forget_init);
  if (compute_dtype != dtype) parameters_.add_compute_copy(compute_dtype);
  for (std::int64_t l = 0; l < config_.layers; ++l) {
    blocks_.push_back(gated_ssm_block_weights(parameters_, block_prefix(l)));
    block_ranges_.push_back(parameters_.range_of(block_prefix(l)));
  }
}

Tensor GatedSsmLm::embed(const Tensor& tokens) const {
  autograd::RegionScope region("embedding");
  return autograd::embedding(parameters_.compute("embedding.weight"), tokens);
}

Tensor GatedSsmLm::block_projection(std::int64_t layer, const Tensor& x) const {
  return gated_ssm_block_projection(blocks_[layer], x, config_.norm_eps);
}

Tensor GatedSsmLm::block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const {
  return gated_ssm_block_output(blocks_[layer], x, y);
}

Tensor GatedSsmLm::head(const Tensor& x) const {
  namespace ag = autograd;
  ag::RegionScope region("head");
  Tensor h = ag::rmsnorm(x, parameters_.compute("final_norm.weight"), config_.norm_eps);
  const Tensor& weight = parameters_.compute(config_.tie_embeddings ? "embedding.weight" : "head.weight");
  return ag::linear(ag::reshape(h, {-1, config_.dim}), weight);
}

Tensor GatedSsmLm::logits(const Tensor& tokens, const Tensor& reset) const {
  BIRDIE_NVTX_RANGE("gated_ssm_lm.forward");
  BIRDIE_CHECK(tokens.rank() == 2, "GatedSsmLm: tokens must be [batch, time], got ", tokens.describe());
  check_shape(reset, tokens.shape(), "GatedSsmLm reset mask");
  Tensor x = embed(tokens);
  for (std::int64_t l = 0; l < config_.layers; ++l) {
    // Block l's parameters are used by nothing recorded before its input: once the backward
    // pass is back here their gradients are final, and a data-parallel step can start
    // summing them over the ranks while the earlier blocks run (autograd/adamw.h).
    x = autograd::mark_gradients_final(x, block_ranges_[l]);
    // The region is opened inside the function, so a recomputed block's nodes carry it too.
    auto block = [this, l, &reset](const std::vector<Tensor>& in) {
      autograd::RegionScope region("block " + std::to_string(l));
      return gated_ssm_block(blocks_[l], in[0], reset, direction(l), config_.norm_eps);
    };
    x = recompute_blocks_ ? autograd::recompute(block, {x}) : block({x});
  }
  return head(x);
}

autograd::CrossEntropy GatedSsmLm::loss(const Tensor& tokens, const Tensor& targets,
                                        const Tensor& reset,
                                        const autograd::CrossEntropyOptions& options) const {
  check_shape(targets, tokens.shape(), "GatedSsmLm targets");
  const Tensor all_logits = logits(tokens, reset);
  autograd::RegionScope region("loss");
  return autograd::cross_entropy(all_logits, targets.reshape({-1}), options);
}

}  // namespace birdie::model
