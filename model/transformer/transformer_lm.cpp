#include "model/transformer/transformer_lm.h"

#include "engine/nvtx.h"
#include "model/initialization.h"
#include "model/transformer/transformer_decoder.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> transformer_parameter_specs(const ModelConfig& config) {
  config.validate();
  BIRDIE_CHECK(config.architecture == Architecture::transformer, "TransformerLm: model.architecture is \"",
               architecture_name(config.architecture), "\", not \"transformer\"");
  std::vector<autograd::ParameterSpec> specs;
  append_embedding_spec(specs, config);
  for (std::int64_t l = 0; l < config.layers; ++l)
    append_transformer_block_specs(specs, block_prefix(l), config.dim, config.mlp_hidden);
  append_head_specs(specs, config);
  return specs;
}

TransformerLm::TransformerLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
                             DType compute_dtype)
    : LanguageModel(config, transformer_parameter_specs(config), dtype, device) {
  RandomGenerator rng(seed);
  initialize_parameters(parameters(), config.layers, rng);
  finish_parameters(compute_dtype);
  for (std::int64_t l = 0; l < config.layers; ++l)
    blocks_.push_back(transformer_block_weights(parameters(), block_prefix(l)));
}

Tensor TransformerLm::logits(const Tensor& tokens, const Tensor& reset) const {
  BIRDIE_NVTX_RANGE("transformer_lm.forward");
  BIRDIE_CHECK(tokens.rank() == 2, "TransformerLm: tokens must be [batch, time], got ", tokens.describe());
  check_shape(reset, tokens.shape(), "TransformerLm reset mask");
  // Segment bounds once per batch, for every block's rotary and attention, both passes.
  const kernels::Segments segments = kernels::segments_of(reset);
  const Tensor x = run_blocks(embed(tokens), [this, segments](std::int64_t l, const Tensor& in) {
    return transformer_block(blocks_[l], in, segments, mask(l), attention_heads(), config().rope_base,
                             config().norm_eps);
  });
  return head(x);
}

std::unique_ptr<Decoder> TransformerLm::decoder() const { return std::make_unique<TransformerDecoder>(*this); }

std::unique_ptr<BatchDecoder> TransformerLm::batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const {
  return std::make_unique<TransformerBatchDecoder>(*this, rows, steps);
}

std::unique_ptr<LanguageModel> make_transformer_lm(const ModelConfig& config, DType dtype, Device device,
                                                   std::uint64_t seed, DType compute_dtype) {
  return std::make_unique<TransformerLm>(config, dtype, device, seed, compute_dtype);
}

}  // namespace birdie::model
