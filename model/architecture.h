// What an architecture says of its model configuration (model/model_config.h), in one
// description per architecture folder (model/NAME/NAME_config.cpp), registered in
// model/architecture_list.h. The configuration readers, ModelConfig::validate, the
// parameter count and memory_plan ask it; the model itself is built by make_NAME_lm
// (model/language_model.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "model/architecture_list.h"
#include "model/model_config.h"

namespace birdie::model {

// A key of a [model] table that only the architectures naming it read ("state", "heads",
// "mlp_hidden", "conv_width", "rope_base", "forget_init"); any other architecture rejects
// it. The keys every architecture reads (vocab, dim, layers, bidirectional,
// tie_embeddings, norm_eps) are not listed.
struct ArchitectureKey {
  std::string_view key;
  bool required;  // false: optional, ModelConfig's default when absent
};

struct ArchitectureConfig {
  std::span<const ArchitectureKey> keys;
  // Throws naming the field when a value is impossible for the architecture (the checks
  // shared by all architectures are ModelConfig::validate's).
  void (*validate)(const ModelConfig& config);
  // A block's parameters, exactly, and as a long double to check a configuration before
  // the 64-bit count is taken.
  std::int64_t (*block_parameters)(const ModelConfig& config);
  long double (*block_parameters_estimate)(const ModelConfig& config);
  // For memory_plan: the bytes the backward pass reads per block and token (bf16
  // activations, fp32 statistics), and the transient peak of one block's backward pass per
  // token (fp32 gradients of its widest intermediate results and of its input).
  double (*saved_bytes_per_block_token)(const ModelConfig& config);
  double (*transient_bytes_per_token)(const ModelConfig& config);
};

// The description of an architecture whose folder gathers its parts in a struct `Parts`
// under these names: `keys`, `validate`, the template `block_parameters<Number>` (the
// exact count and the estimate from one formula), `saved_bytes_per_block_token` and
// `transient_bytes_per_token`.
template <class Parts>
constexpr ArchitectureConfig architecture_config_of() {
  return {
      .keys = Parts::keys,
      .validate = Parts::validate,
      .block_parameters = Parts::template block_parameters<std::int64_t>,
      .block_parameters_estimate = Parts::template block_parameters<long double>,
      .saved_bytes_per_block_token = Parts::saved_bytes_per_block_token,
      .transient_bytes_per_token = Parts::transient_bytes_per_token,
  };
}

#define BIRDIE_DECLARE_ARCHITECTURE_CONFIG(name) extern const ArchitectureConfig name##_architecture;
BIRDIE_ARCHITECTURES(BIRDIE_DECLARE_ARCHITECTURE_CONFIG)
#undef BIRDIE_DECLARE_ARCHITECTURE_CONFIG

// The description of a registered architecture (model/architecture_list.h).
const ArchitectureConfig& architecture_config(Architecture architecture);
// Whether the architecture reads `key` of a [model] table; and whether it must be given.
bool architecture_reads(Architecture architecture, std::string_view key);
bool architecture_requires(Architecture architecture, std::string_view key);

// Checks several architectures share: the recurrence's width (model.state, split in halves
// when blocks are bidirectional) and the gated MLP's width (model.mlp_hidden).
void check_recurrence_state(const ModelConfig& config);
void check_mlp_hidden(const ModelConfig& config);

}  // namespace birdie::model
