#include "model/language_model.h"

#include <utility>

#include "autograd/gradients_final.h"
#include "autograd/recompute.h"
#include "autograd/tape.h"
#include "engine/nvtx.h"

namespace birdie::model {

PrefillRow prefill_row(std::span<const std::int32_t> prompt, std::int32_t start_generating, Device device,
                       std::span<const std::int32_t> causal) {
  const auto P = static_cast<std::int64_t>(prompt.size());
  const auto T = P + 1 + static_cast<std::int64_t>(causal.size());
  std::vector<std::int32_t> tokens(prompt.begin(), prompt.end());
  tokens.push_back(start_generating);
  tokens.insert(tokens.end(), causal.begin(), causal.end());
  std::vector<std::int32_t> reset(T, 0);
  reset[0] = kernels::reset_bits::segment_start;
  for (std::int64_t t = P; t < T; ++t) reset[t] |= kernels::reset_bits::causal;
  return {Tensor::from_values<std::int32_t>(tokens, {1, T}).to(device),
          Tensor::from_values<std::int32_t>(reset, {1, T}).to(device)};
}

std::string block_prefix(std::int64_t layer) { return "blocks." + std::to_string(layer) + "."; }

std::vector<autograd::ParameterSpec> language_model_specs(const ModelConfig& config, Architecture architecture,
                                                          const char* model, const AppendBlockSpecs& append_block) {
  config.validate();
  BIRDIE_CHECK(config.architecture == architecture, model, ": model.architecture is \"",
               architecture_name(config.architecture), "\", not \"", architecture_name(architecture), "\"");
  std::vector<autograd::ParameterSpec> specs;
  specs.push_back({"embedding.weight", {config.vocab, config.dim}, true});
  for (std::int64_t l = 0; l < config.layers; ++l) append_block(specs, block_prefix(l));
  specs.push_back({"final_norm.weight", {config.dim}, false});
  if (!config.tie_embeddings) specs.push_back({"head.weight", {config.vocab, config.dim}, true});
  return specs;
}

LanguageModel::LanguageModel(const ModelConfig& config, std::vector<autograd::ParameterSpec> specs, DType dtype,
                             Device device)
    : config_(config), parameters_(std::move(specs), dtype, device) {}

void LanguageModel::finish_parameters(DType compute_dtype) {
  if (compute_dtype != parameters_.values().dtype()) parameters_.add_compute_copy(compute_dtype);
  for (std::int64_t l = 0; l < config_.layers; ++l) block_ranges_.push_back(parameters_.range_of(block_prefix(l)));
}

Tensor LanguageModel::run_blocks(Tensor x, const BlockFunction& block) const {
  for (std::int64_t l = 0; l < config_.layers; ++l) {
    // Block l's parameters are used by nothing recorded before its input: once the backward
    // pass is back here their gradients are final, and a data-parallel step can start
    // summing them over the ranks while the earlier blocks run (autograd/adamw.h).
    x = autograd::mark_gradients_final(x, block_ranges_[l]);
    // The region is opened inside the function, so a recomputed block's nodes carry it too.
    // A recomputed block runs again in the backward pass: everything is captured by value.
    auto one_block = [block, l](const std::vector<Tensor>& in) {
      autograd::RegionScope region("block " + std::to_string(l));
      return block(l, in[0]);
    };
    x = recompute_blocks_ ? autograd::recompute(one_block, {x}) : one_block({x});
  }
  return x;
}

Tensor LanguageModel::embed(const Tensor& tokens) const {
  autograd::RegionScope region("embedding");
  return autograd::embedding(parameters_.compute("embedding.weight"), tokens);
}

Tensor LanguageModel::head(const Tensor& x) const {
  namespace ag = autograd;
  ag::RegionScope region("head");
  Tensor h = ag::rmsnorm(x, parameters_.compute("final_norm.weight"), config_.norm_eps);
  const Tensor& weight = parameters_.compute(config_.tie_embeddings ? "embedding.weight" : "head.weight");
  return ag::linear(ag::reshape(h, {-1, config_.dim}), weight);
}

Tensor LanguageModel::host_logits(const Tensor& x) const {
  const Tensor logits = head(x).reshape({config_.vocab});
  return logits.is_cpu() ? logits : logits.to(Device::cpu);
}

Tensor LanguageModel::embed_token(std::int32_t token) const {
  return embed(Tensor::from_values<std::int32_t>({token}, {1, 1}).to(device()));
}

Tensor LanguageModel::last_host_logits(const Tensor& x) const {
  const std::int64_t T = x.dim(1);
  return host_logits(x.reshape({T, config_.dim}).slice(T - 1, T));
}

autograd::CrossEntropy LanguageModel::loss(const Tensor& tokens, const Tensor& targets, const Tensor& reset,
                                           const autograd::CrossEntropyOptions& options) const {
  check_shape(targets, tokens.shape(), "language model targets");
  const Tensor all_logits = logits(tokens, reset);
  autograd::RegionScope region("loss");
  return autograd::cross_entropy(all_logits, targets.reshape({-1}), options);
}

std::unique_ptr<LanguageModel> make_language_model(const ModelConfig& config, DType dtype, Device device,
                                                   std::uint64_t seed, DType compute_dtype) {
  using Make = std::unique_ptr<LanguageModel> (*)(const ModelConfig&, DType, Device, std::uint64_t, DType);
#define BIRDIE_MAKE_LM(name) std::pair{Architecture::name, &make_##name##_lm},
  static constexpr std::pair<Architecture, Make> makers[] = {BIRDIE_ARCHITECTURES(BIRDIE_MAKE_LM)};
#undef BIRDIE_MAKE_LM
  for (const auto& [architecture, make] : makers)
    if (architecture == config.architecture) return make(config, dtype, device, seed, compute_dtype);
  throw Error(detail::concat("model.architecture = \"", architecture_name(config.architecture),
                             "\" is not a known architecture"));
}

}  // namespace birdie::model
