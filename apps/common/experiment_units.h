// An experiment's arm-seed units: each an ordinary run folder made by pretrain
// (<output>/<arm>/seed-<s>) holding the unit's results (phonebook.json, validation.json,
// experiment_state.json, piece.json); what one invocation of the experiment program does
// with them; and where the report finds the finished ones (its own output folder, or
// another piece's).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "apps/common/experiment_config.h"
#include "apps/common/experiment_pieces.h"

namespace birdie::apps {

// validation.json: the loss per objective class, and per configuration under this key.
inline constexpr const char* configurations_key = "configurations";

struct ExperimentUnit {  // one arm, one pre-training seed
  std::string arm;
  int seed = 1;
  std::filesystem::path folder;
  bool chosen = true;  // run by this invocation (--arms, --seeds)
  std::string name() const { return arm + " seed " + std::to_string(seed); }
  std::filesystem::path relative() const { return std::filesystem::path(arm) / ("seed-" + std::to_string(seed)); }
};

// What one invocation does with the experiment: which units it runs, where else the
// report looks for finished ones.
struct ExperimentOptions {
  std::vector<std::string> overrides;
  std::vector<std::string> arms;  // empty: every arm
  std::vector<int> seeds;         // empty: every seed
  std::vector<std::filesystem::path> from;  // other pieces' output folders, for the report
  bool report_only = false, drop_checkpoints = false, accept_other_code = false;
};

// A unit's JSON file (an empty object when there is none); an Error naming it when it is
// not valid JSON.
nlohmann::ordered_json read_json(const std::filesystem::path& path);
// Written atomically (engine/atomic_file.h), indented.
void write_json(const std::filesystem::path& path, const nlohmann::ordered_json& j);

// The folder holding each unit's finished results: the output folder's own, else the
// first --from folder that has it finished; every one made by the same experiment, data
// and code as the first (units found nowhere are left out of the report). `reference`:
// the first one's stamp; `code_versions`: every code version that made one.
std::vector<ExperimentUnit> finished_units(const ExperimentConfig& config, const ExperimentOptions& options,
                                           const std::vector<ExperimentUnit>& units, PieceStamp& reference,
                                           std::set<std::string>& code_versions);

}  // namespace birdie::apps
