#include "model/hawk/hawk_lm.h"

#include "model/hawk/hawk_decoder.h"

namespace birdie::model {

namespace {

std::vector<autograd::ParameterSpec> hawk_parameter_specs(const ModelConfig& config) {
  return language_model_specs(config, Architecture::hawk, "HawkLm", [&](auto& specs, const std::string& prefix) {
    append_hawk_block_specs(specs, prefix, config);
  });
}

}  // namespace

HawkLm::HawkLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
               std::optional<DType> compute_dtype)
    : ArchitectureLm(config, hawk_parameter_specs(config), dtype, device, seed, compute_dtype, hawk_initial_values(),
                     hawk_block_weights, {"HawkLm", "hawk_lm.forward"}) {}

LanguageModel::BlockFunction HawkLm::blocks(const Tensor& reset) const {
  return [this, reset](std::int64_t l, const Tensor& in) {
    return hawk_block(block(l), in, reset, direction(l), config().norm_eps);
  };
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
