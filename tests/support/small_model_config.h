// The small models the generation suites decode with: three blocks, bidirectional and
// causal in turn (model::BidirectionalLayers::alternate), of any architecture.
#pragma once

#include <cstdint>

#include "model/model_config.h"

namespace birdie::testing {

struct SmallModelSizes {
  std::int64_t vocab, dim;
  std::int64_t ssm_state = 0;   // the Gated SSM's state width
  std::int64_t hawk_state = 0;  // Hawk's recurrence width
  std::int64_t heads = 0;       // the Transformer's
  std::int64_t mlp_hidden = 0;  // Hawk's and the Transformer's
};

inline model::ModelConfig small_model_config(model::Architecture architecture, const SmallModelSizes& sizes) {
  model::ModelConfig c;
  c.architecture = architecture;
  c.vocab = sizes.vocab;
  c.dim = sizes.dim;
  c.layers = 3;
  c.bidirectional = model::BidirectionalLayers::alternate;
  if (architecture == model::Architecture::gated_ssm) c.state = sizes.ssm_state;
  if (architecture == model::Architecture::hawk) c.state = sizes.hawk_state, c.mlp_hidden = sizes.mlp_hidden;
  if (architecture == model::Architecture::transformer) c.heads = sizes.heads, c.mlp_hidden = sizes.mlp_hidden;
  return c;
}

}  // namespace birdie::testing
