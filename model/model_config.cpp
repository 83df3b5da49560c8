#include "model/model_config.h"

#include "engine/error.h"

namespace birdie::model {

Architecture parse_architecture(std::string_view name) {
  if (name == "gated_ssm") return Architecture::gated_ssm;
  if (name == "hawk") return Architecture::hawk;
  if (name == "transformer") return Architecture::transformer;
  throw Error(detail::concat("model.architecture = '", name, "' is not one of \"gated_ssm\", \"hawk\", \"transformer\""));
}

std::string_view architecture_name(Architecture architecture) {
  switch (architecture) {
    case Architecture::gated_ssm: return "gated_ssm";
    case Architecture::hawk: return "hawk";
    case Architecture::transformer: return "transformer";
  }
  return "invalid";
}

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

void ModelConfig::validate() const {
  BIRDIE_CHECK(vocab > 0, "model.vocab must be positive, got ", vocab);
  BIRDIE_CHECK(dim > 0, "model.dim must be positive, got ", dim);
  BIRDIE_CHECK(layers > 0, "model.layers must be positive, got ", layers);
  const std::string_view name = architecture_name(architecture);
  if (architecture == Architecture::transformer) {
    BIRDIE_CHECK(heads > 0 && dim % heads == 0 && (dim / heads) % 2 == 0, "model.heads must divide model.dim into "
                 "heads of even width (the rotary embedding turns pairs of channels), got heads = ", heads,
                 " for dim = ", dim);
  } else {
    BIRDIE_CHECK(state > 0, "model.state must be positive, got ", state);
    BIRDIE_CHECK(bidirectional == BidirectionalLayers::none || state % 2 == 0,
                 "model.state must be even when blocks are bidirectional (the state is split "
                 "into a forward and a reverse half), got ", state);
  }
  if (architecture != Architecture::gated_ssm)
    BIRDIE_CHECK(mlp_hidden > 0, "model.mlp_hidden must be positive for model.architecture = \"", name,
                 "\" (the gated MLP's width), got ", mlp_hidden);
  if (architecture == Architecture::hawk)
    BIRDIE_CHECK(conv_width >= 1, "model.conv_width must be at least 1, got ", conv_width);
  if (architecture == Architecture::transformer)
    BIRDIE_CHECK(rope_base > 1, "model.rope_base must be greater than 1, got ", rope_base);
}

std::int64_t ModelConfig::block_parameter_count() const {
  const std::int64_t D = dim, N = state, M = mlp_hidden, K = conv_width;
  switch (architecture) {
    case Architecture::gated_ssm: return D + 4 * N * D + 4 * N + N * D;
    case Architecture::hawk: return 2 * D + 3 * N * D + 2 * N * N + (K + 4) * N + 3 * M * D;
    case Architecture::transformer: return 2 * D + 4 * D * D + 3 * M * D;
  }
  return 0;
}

std::int64_t ModelConfig::parameter_count() const {
  return vocab * dim + layers * block_parameter_count() + dim + (tie_embeddings ? 0 : vocab * dim);
}

}  // namespace birdie::model
