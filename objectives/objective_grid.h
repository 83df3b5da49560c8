// The configuration grid: the list of arms, read from a TOML file (toml++). The default
// grid is configs/objectives/default_grid.toml. File format:
//
//   paradigm = "random"        # optional default placement: random | prefix | suffix | none
//
//   objectives = [
//     { class = "infilling", corruption_rate = 0.15, mean_span = 3, max_len = 512 },
//     { class = "copying", min_len = 128, max_len = 256, name = "copy_short" },
//     ...
//   ]
//
// (TOML inline tables are one line each.) Keys per class (all optional except class;
// defaults as in objective_params.h):
//   every class: class, name (default: generated from the parameters), paradigm
//   next_token, prefix_lm: max_len (0 = whatever fits the row)
//   infilling: corruption_rate, mean_span, max_len
//   autoencoding: corruption_rate, mean_span, max_len, deshuffle
//   copying: min_len, max_len
//   deshuffling: min_len, max_len, shuffle_fraction
//   selective_copying: min_context, max_context, min_spans, max_spans, min_span_len,
//                      max_span_len, min_delimiter, max_delimiter, query ("first"|"last")
// Unknown keys, wrong types, duplicate names and impossible entries are errors naming the
// file, the line and the entry. An entry is impossible when it cannot produce one span on
// average: max_len < mean_span / corruption_rate / 2 (§3).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "objectives/objective_config.h"

namespace birdie::objectives {

struct ObjectiveGrid {
  std::vector<ObjectiveConfig> configs;
  std::string source;  // the file it was read from, for messages

  // The index of the configuration called `name`; throws naming the grid file when absent.
  std::size_t index_of(std::string_view name) const;
  // Configuration indices per class, in grid order (a class without entries has none).
  std::vector<std::vector<std::size_t>> indices_by_class() const;
};

ObjectiveGrid load_objective_grid(const std::filesystem::path& path);
// `source` names the text in error messages (a file name, "command line", ...).
ObjectiveGrid parse_objective_grid(std::string_view toml_text, std::string_view source);

// configs/objectives/default_grid.toml in the source tree this library was built from.
std::filesystem::path default_grid_path();

// The checks applied to every grid entry (also used for configurations built in code):
// returns an empty string when the configuration is possible, else what is wrong and how
// to fix it.
std::string configuration_problem(const ObjectiveConfig& config);

}  // namespace birdie::objectives
