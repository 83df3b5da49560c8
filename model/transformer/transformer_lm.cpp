#include "model/transformer/transformer_lm.h"

#include "model/transformer/transformer_decoder.h"

namespace birdie::model {

namespace {

std::vector<autograd::ParameterSpec> transformer_parameter_specs(const ModelConfig& config) {
  return language_model_specs(config, Architecture::transformer, "TransformerLm",
                              [&](auto& specs, const std::string& prefix) {
                                append_transformer_block_specs(specs, prefix, config.dim, config.mlp_hidden);
                              });
}

}  // namespace

TransformerLm::TransformerLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
                             std::optional<DType> compute_dtype)
    : ArchitectureLm(config, transformer_parameter_specs(config), dtype, device, seed, compute_dtype, {},
                     transformer_block_weights, {"TransformerLm", "transformer_lm.forward"}) {}

LanguageModel::BlockFunction TransformerLm::blocks(const Tensor& reset) const {
  const kernels::Segments segments = kernels::segments_of(reset);
  return [this, segments](std::int64_t l, const Tensor& in) {
    return transformer_block(block(l), in, segments, mask(l), attention_heads(), config().rope_base,
                             config().norm_eps);
  };
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
