#include "model/hawk/hawk_lm.h"

#include "engine/nvtx.h"
#include "model/hawk/hawk_decoder.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> hawk_parameter_specs(const ModelConfig& config) {
  config.validate();
  BIRDIE_CHECK(config.architecture == Architecture::hawk, "HawkLm: model.architecture is \"",
               architecture_name(config.architecture), "\"");
  std::vector<autograd::ParameterSpec> specs;
  append_embedding_spec(specs, config);
  for (std::int64_t l = 0; l < config.layers; ++l) append_hawk_block_specs(specs, block_prefix(l), config);
  append_head_specs(specs, config);
  return specs;
}

HawkLm::HawkLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed, DType compute_dtype)
    : LanguageModel(config, hawk_parameter_specs(config), dtype, device) {
  RandomGenerator rng(seed);
  initialize_parameters(parameters(), config.layers, rng, hawk_initial_values());
  finish_parameters(compute_dtype);
  for (std::int64_t l = 0; l < config.layers; ++l) blocks_.push_back(hawk_block_weights(parameters(), block_prefix(l)));
}

Tensor HawkLm::logits(const Tensor& tokens, const Tensor& reset) const {
  BIRDIE_NVTX_RANGE("hawk_lm.forward");
  BIRDIE_CHECK(tokens.rank() == 2, "HawkLm: tokens must be [batch, time], got ", tokens.describe());
  check_shape(reset, tokens.shape(), "HawkLm reset mask");
  const Tensor x = run_blocks(embed(tokens), [this, reset](std::int64_t l, const Tensor& in) {
    return hawk_block(blocks_[l], in, reset, direction(l), config().norm_eps);
  });
  return head(x);
}

std::unique_ptr<Decoder> HawkLm::decoder() const { return std::make_unique<HawkDecoder>(*this); }

std::unique_ptr<BatchDecoder> HawkLm::batch_decoder(std::span<Decoder* const> rows, std::int64_t) const {
  return std::make_unique<HawkBatchDecoder>(*this, rows);
}

std::unique_ptr<LanguageModel> make_hawk_lm(const ModelConfig& config, DType dtype, Device device,
                                            std::uint64_t seed, DType compute_dtype) {
  return std::make_unique<HawkLm>(config, dtype, device, seed, compute_dtype);
}

}  // namespace birdie::model
