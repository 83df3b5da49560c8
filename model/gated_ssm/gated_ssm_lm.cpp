#include "model/gated_ssm/gated_ssm_lm.h"

#include "engine/nvtx.h"
#include "model/gated_ssm/gated_ssm_decoder.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const ModelConfig& config) {
  config.validate();
  BIRDIE_CHECK(config.architecture == Architecture::gated_ssm, "GatedSsmLm: model.architecture is \"",
               architecture_name(config.architecture), "\"");
  std::vector<autograd::ParameterSpec> specs;
  append_embedding_spec(specs, config);
  for (std::int64_t l = 0; l < config.layers; ++l)
    append_gated_ssm_block_specs(specs, block_prefix(l), config.dim, config.state);
  append_head_specs(specs, config);
  return specs;
}

GatedSsmLm::GatedSsmLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
                       DType compute_dtype)
    : LanguageModel(config, gated_ssm_parameter_specs(config), dtype, device) {
  RandomGenerator rng(seed);
  initialize_parameters(parameters(), config.layers, rng, gated_ssm_initial_values(config.forget_init));
  finish_parameters(compute_dtype);
  for (std::int64_t l = 0; l < config.layers; ++l)
    blocks_.push_back(gated_ssm_block_weights(parameters(), block_prefix(l)));
}

Tensor GatedSsmLm::block_projection(std::int64_t layer, const Tensor& x) const {
  return gated_ssm_block_projection(blocks_[layer], x, config().norm_eps);
}

Tensor GatedSsmLm::block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const {
  return gated_ssm_block_output(blocks_[layer], x, y);
}

Tensor GatedSsmLm::logits(const Tensor& tokens, const Tensor& reset) const {
  BIRDIE_NVTX_RANGE("gated_ssm_lm.forward");
  BIRDIE_CHECK(tokens.rank() == 2, "GatedSsmLm: tokens must be [batch, time], got ", tokens.describe());
  check_shape(reset, tokens.shape(), "GatedSsmLm reset mask");
  const Tensor x = run_blocks(embed(tokens), [this, reset](std::int64_t l, const Tensor& in) {
    return gated_ssm_block(blocks_[l], in, reset, direction(l), config().norm_eps);
  });
  return head(x);
}

std::unique_ptr<Decoder> GatedSsmLm::decoder() const { return std::make_unique<GatedSsmDecoder>(*this); }

std::unique_ptr<BatchDecoder> GatedSsmLm::batch_decoder(std::span<Decoder* const> rows, std::int64_t) const {
  return std::make_unique<GatedSsmBatchDecoder>(*this, rows);
}

std::unique_ptr<LanguageModel> make_gated_ssm_lm(const ModelConfig& config, DType dtype, Device device,
                                                 std::uint64_t seed, DType compute_dtype) {
  return std::make_unique<GatedSsmLm>(config, dtype, device, seed, compute_dtype);
}

}  // namespace birdie::model
