// A mixture: a list of configurations and the probability of drawing each one for the
// next sample. The bandit's mixtures are weights over the grid's configurations; the fixed
// baselines of docs/method.md §3 (ntp, ul2) carry their own configurations.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "objectives/objective_grid.h"

namespace birdie::objectives {

struct Mixture {
  std::string name;
  std::vector<ObjectiveConfig> configs;
  std::vector<double> weights;  // same length as configs, non-negative, sums to 1

  // Draws a configuration index (one uniform draw).
  std::size_t draw(RandomGenerator& rng) const;
};

// Checks lengths, signs and a positive total, and normalizes the weights to sum to 1.
// `what` names the mixture in the error message.
Mixture make_mixture(std::string name, std::vector<ObjectiveConfig> configs,
                     std::vector<double> weights);

// Uniform over the classes present in the grid, then uniform within each class.
Mixture uniform_mixture(const ObjectiveGrid& grid);
// Next-token prediction alone: the classic causal LM.
Mixture next_token_mixture();
// UL2 (§3): R = infilling span 3 @15% and span 8 @15% (0.2 each); X = span 3 @50%,
// 8 @50%, 64 @15%, 64 @50% (0.1 each); S = prefix LM (0.2). Span configurations take
// max_len 2048 (the paper's sequence length; a shorter row caps it).
Mixture ul2_mixture();
// Weights over the grid's configurations from a TOML file:
//   [weights]
//   infilling_p15_s3_l512 = 2.0
//   copying_l128_256 = 1.0
// Configurations not listed get weight 0; an unknown name, a negative weight or an
// all-zero file is an error naming the file and the key.
Mixture load_mixture_weights(const std::filesystem::path& path, const ObjectiveGrid& grid);
// "ntp", "ul2", "uniform", or the path of a weights file.
Mixture named_mixture(const std::string& name_or_path, const ObjectiveGrid& grid);

}  // namespace birdie::objectives
