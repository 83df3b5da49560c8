#include "model/gated_ssm/gated_ssm_lm.h"

#include "model/gated_ssm/gated_ssm_decoder.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const ModelConfig& config) {
  return language_model_specs(config, Architecture::gated_ssm, "GatedSsmLm", [&](auto& specs, const std::string& prefix) {
    append_gated_ssm_block_specs(specs, prefix, config.dim, config.state);
  });
}

GatedSsmLm::GatedSsmLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
                       std::optional<DType> compute_dtype)
    : ArchitectureLm(config, gated_ssm_parameter_specs(config), dtype, device, seed, compute_dtype,
                     gated_ssm_initial_values(config.forget_init), gated_ssm_block_weights,
                     {"GatedSsmLm", "gated_ssm_lm.forward"}) {}

Tensor GatedSsmLm::block_projection(std::int64_t layer, const Tensor& x) const {
  return gated_ssm_block_projection(block(layer), x, config().norm_eps);
}

Tensor GatedSsmLm::block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const {
  return gated_ssm_block_output(block(layer), x, y);
}

LanguageModel::BlockFunction GatedSsmLm::blocks(const Tensor& reset) const {
  return [this, reset](std::int64_t l, const Tensor& in) {
    return gated_ssm_block(block(l), in, reset, direction(l), config().norm_eps);
  };
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
