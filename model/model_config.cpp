#include "model/model_config.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "engine/error.h"
#include "model/architecture.h"

namespace birdie::model {

BidirectionalLayers parse_bidirectional_layers(std::string_view name) {
  if (name == "all") return BidirectionalLayers::all;
  if (name == "alternate") return BidirectionalLayers::alternate;
  if (name == "none") return BidirectionalLayers::none;
  throw Error(detail::concat("model.bidirectional = '", name,
                             "' is not one of \"all\", \"alternate\", \"none\""));
}

std::string_view bidirectional_layers_name(BidirectionalLayers layers) {
  switch (layers) {
    case BidirectionalLayers::all: return "all";
    case BidirectionalLayers::alternate: return "alternate";
    case BidirectionalLayers::none: return "none";
  }
  return "invalid";
}

ForgetGateInit parse_forget_gate_init(std::string_view name) {
  if (name == "zero") return ForgetGateInit::zero;
  if (name == "spread") return ForgetGateInit::spread;
  throw Error(detail::concat("model.forget_init = '", name, "' is not one of \"zero\", \"spread\""));
}

std::string_view forget_gate_init_name(ForgetGateInit init) {
  return init == ForgetGateInit::spread ? "spread" : "zero";
}

namespace {

// The parameter counts in any number type: long double to check a configuration before the
// 64-bit count (whose terms are then all smaller than the total) is taken.
template <class Number>
Number block_parameters(const ModelConfig& c) {
  const ArchitectureConfig& architecture = architecture_config(c.architecture);
  if constexpr (std::is_same_v<Number, long double>) return architecture.block_parameters_estimate(c);
  else return architecture.block_parameters(c);
}

template <class Number>
Number total_parameters(const ModelConfig& c) {
  const Number embedding = static_cast<Number>(c.vocab) * static_cast<Number>(c.dim);
  return embedding + static_cast<Number>(c.layers) * block_parameters<Number>(c) + static_cast<Number>(c.dim) +
         (c.tie_embeddings ? Number(0) : embedding);
}

}  // namespace

void ModelConfig::validate() const {
  BIRDIE_CHECK(vocab > 0, "model.vocab must be positive, got ", vocab);
  BIRDIE_CHECK(dim > 0, "model.dim must be positive, got ", dim);
  BIRDIE_CHECK(layers > 0, "model.layers must be positive, got ", layers);
  architecture_config(architecture).validate(*this);
  BIRDIE_CHECK(norm_eps > 0 && std::isfinite(norm_eps), "model.norm_eps must be positive, got ", norm_eps);
  // Token ids are 32-bit; and every size stays far from overflowing the 64-bit counts.
  BIRDIE_CHECK(vocab <= INT32_MAX, "model.vocab must be at most ", INT32_MAX, ", got ", vocab);
  for (const auto& [key, value] : {std::pair{"dim", dim}, std::pair{"state", state}, std::pair{"layers", layers},
                                    std::pair{"heads", heads}, std::pair{"mlp_hidden", mlp_hidden},
                                    std::pair{"conv_width", conv_width}})
    BIRDIE_CHECK(value <= (std::int64_t(1) << 24), "model.", key, " must be at most 2^24, got ", value);
  BIRDIE_CHECK(total_parameters<long double>(*this) <= 0x1p50L, "model: the configuration has about ",
               static_cast<double>(total_parameters<long double>(*this)),
               " parameters, more than this engine counts (2^50)");
}

std::int64_t ModelConfig::block_parameter_count() const { return block_parameters<std::int64_t>(*this); }

std::int64_t ModelConfig::parameter_count() const { return total_parameters<std::int64_t>(*this); }

}  // namespace birdie::model
