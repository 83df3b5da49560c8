// Hawk's configuration (model/architecture.h): model.state (the recurrence's width C,
// Griffin's D_RNN), model.mlp_hidden (M) and model.conv_width (K).
#include <algorithm>
#include <cstdint>

#include "engine/error.h"
#include "model/architecture.h"

namespace birdie::model {

namespace {

constexpr int rglru_chunk = 16;  // tokens per chunk whose boundary state the GPU RG-LRU scan keeps

struct HawkParts {
  static constexpr ArchitectureKey keys[] = {{"state", true}, {"mlp_hidden", true}, {"conv_width", false}};

  static void validate(const ModelConfig& c) {
    check_recurrence_state(c);
    check_mlp_hidden(c);
    BIRDIE_CHECK(c.conv_width >= 1, "model.conv_width must be at least 1, got ", c.conv_width);
  }

  // A block holds 2D + 3C·D + 2C² + (K + 4)·C + 3M·D (model/hawk/hawk_block.h lists them).
  template <class Number>
  static Number block_parameters(const ModelConfig& c) {
    const Number D = static_cast<Number>(c.dim), N = static_cast<Number>(c.state),
                 M = static_cast<Number>(c.mlp_hidden), K = static_cast<Number>(c.conv_width);
    return 2 * D + 3 * N * D + 2 * N * N + (K + 4) * N + 3 * M * D;
  }

  static double saved_bytes_per_block_token(const ModelConfig& c) {
    const double D = double(c.dim), N = double(c.state), M = double(c.mlp_hidden);
    // Two residual inputs and norms (4D); the branches (2N), the convolution's output
    // (N), the gates (2N) and the recurrence's gated output (N: the recurrence writes
    // GeLU(g) ⊙ h, never h); the MLP's fused projection (2M), GeLU and product (2M); two
    // 1/rms; the recurrence's chunk-boundary states.
    return 2 * (4 * D + 6 * N + 4 * M) + 8 + 4 * N / rglru_chunk;
  }

  static double transient_bytes_per_token(const ModelConfig& c) {
    const double D = double(c.dim), N = double(c.state), M = double(c.mlp_hidden);
    return 4 * (std::max(5 * N, 2 * M) + D);
  }
};

}  // namespace

const ArchitectureConfig hawk_architecture = architecture_config_of<HawkParts>();

}  // namespace birdie::model
