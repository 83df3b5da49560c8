#include "model/gated_ssm_config.h"

#include "engine/error.h"

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

void GatedSsmConfig::validate() const {
  BIRDIE_CHECK(vocab > 0, "model.vocab must be positive, got ", vocab);
  BIRDIE_CHECK(dim > 0, "model.dim must be positive, got ", dim);
  BIRDIE_CHECK(state > 0, "model.state must be positive, got ", state);
  BIRDIE_CHECK(layers > 0, "model.layers must be positive, got ", layers);
  BIRDIE_CHECK(bidirectional == BidirectionalLayers::none || state % 2 == 0,
               "model.state must be even when blocks are bidirectional (the state is split "
               "into a forward and a reverse half), got ", state);
}

std::int64_t GatedSsmConfig::parameter_count() const {
  const std::int64_t per_block = dim + 4 * state * dim + 4 * state + state * dim;
  return vocab * dim + layers * per_block + dim + (tie_embeddings ? 0 : vocab * dim);
}

}  // namespace birdie::model
