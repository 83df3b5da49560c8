// The Gated SSM's configuration (model/architecture.h): model.state (N) and model.forget_init.
#include <cstdint>

#include "model/architecture.h"

namespace birdie::model {

namespace {

constexpr int scan_chunk = 64;  // tokens per chunk whose boundary state the GPU scan keeps

struct GatedSsmParts {
  static constexpr ArchitectureKey keys[] = {{"state", true}, {"forget_init", false}};

  static void validate(const ModelConfig& c) { check_recurrence_state(c); }

  // A block holds D + 4N·D + 4N + N·D (norm, fused projection and its bias, output).
  template <class Number>
  static Number block_parameters(const ModelConfig& c) {
    const Number D = static_cast<Number>(c.dim), N = static_cast<Number>(c.state);
    return D + 4 * N * D + 4 * N + N * D;
  }

  static double saved_bytes_per_block_token(const ModelConfig& c) {
    const double D = double(c.dim), N = double(c.state);
    // Block input x and normalized u (D each), the fused projection (4N), the scan
    // output (N), the norm's 1/rms, the scan's chunk-boundary states (fp32, N a chunk).
    return 2 * (2 * D + 4 * N + N) + 4 + 4 * N / scan_chunk;
  }

  static double transient_bytes_per_token(const ModelConfig& c) {
    const double D = double(c.dim), N = double(c.state);
    return 4 * (4 * N + D);
  }
};

}  // namespace

const ArchitectureConfig gated_ssm_architecture = architecture_config_of<GatedSsmParts>();

}  // namespace birdie::model
