// The Transformer's configuration (model/architecture.h): model.heads, model.mlp_hidden (M)
// and model.rope_base.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/error.h"
#include "model/architecture.h"

namespace birdie::model {

namespace {

struct TransformerParts {
  static constexpr ArchitectureKey keys[] = {{"heads", true}, {"mlp_hidden", true}, {"rope_base", false}};

  static void validate(const ModelConfig& c) {
    BIRDIE_CHECK(c.heads > 0 && c.dim % c.heads == 0 && (c.dim / c.heads) % 2 == 0, "model.heads must divide "
                 "model.dim into heads of even width (the rotary embedding turns pairs of channels), got heads = ",
                 c.heads, " for dim = ", c.dim);
    check_mlp_hidden(c);
    BIRDIE_CHECK(c.rope_base > 1 && std::isfinite(c.rope_base), "model.rope_base must be greater than 1, got ",
                 c.rope_base);
  }

  // A block holds 2D + 4D² + 3M·D (norms, q/k/v and output projections, gated MLP).
  template <class Number>
  static Number block_parameters(const ModelConfig& c) {
    const Number D = static_cast<Number>(c.dim), M = static_cast<Number>(c.mlp_hidden);
    return 2 * D + 4 * D * D + 3 * M * D;
  }

  static double saved_bytes_per_block_token(const ModelConfig& c) {
    const double D = double(c.dim), M = double(c.mlp_hidden);
    // Two residual inputs and norms (4D); q, k, v and rotated q, k (5D); the attention
    // output (D) and its row log-sum-exps (fp32, one per head); the MLP (4M); two 1/rms.
    return 2 * (10 * D + 4 * M) + 4 * double(c.heads) + 8;
  }

  static double transient_bytes_per_token(const ModelConfig& c) {
    const double D = double(c.dim), M = double(c.mlp_hidden);
    return 4 * (std::max(4 * D, 2 * M) + D);
  }
};

}  // namespace

const ArchitectureConfig transformer_architecture = architecture_config_of<TransformerParts>();

}  // namespace birdie::model
