// Validation sets (docs/method.md §4): for each configuration a fixed set of samples made from
// held-out text, packed exactly like training rows (the same objectives, the same
// RowPacker, the same row format). L[i] = mean CE over set i's label tokens.
#pragma once

#include <cstdint>
#include <vector>

#include "data/token_source.h"
#include "objectives/batch_builder.h"

namespace birdie::objectives {

struct ValidationSet {
  std::size_t config_index = 0;
  std::string name;
  PackedBatch rows;  // objective == config_index on every sample token
};

// Sample k of configuration i reads validation text at its own offset and uses the random
// stream (seed, i): the sets depend only on the text, the configurations and the seed.
// Samples are as long as a full row allows (budget L), packed best-fit into as few rows
// as the packer makes (min_pack_tokens as in training).
std::vector<ValidationSet> build_validation_sets(const data::TokenSource& validation_text,
                                                 const std::vector<ObjectiveConfig>& configs,
                                                 int row_length, int min_pack_tokens = 256,
                                                 int samples_per_config = 8, std::uint64_t seed = 0);

}  // namespace birdie::objectives
