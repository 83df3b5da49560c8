// An experiment run in pieces: each job runs some of its arm-seed units (experiment
// --arms A,B --seeds 1,2), possibly on another machine and into another output folder,
// and one report merges the units of every piece (experiment --report-only --from DIR ...).
// Each unit's folder holds piece.json, what made it; units are merged only when the same
// experiment, data and code made them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/experiment_config.h"

namespace birdie::apps {

struct PieceStamp {
  // 16 hex digits each: the experiment file's bytes, its --set overrides (but
  // experiment.output, which may differ between jobs) and the bytes of every arm's run
  // file; every arm's data (manifest, tokenizer and each shard's header, which holds the
  // checksum of its tokens); the code (source_version.h).
  std::string experiment, data, code;
  std::string commit;  // for people: the git commit, when known
};

// The stamp of units run now with `config` (whose overrides are `overrides`).
PieceStamp current_piece_stamp(const ExperimentConfig& config, const std::vector<std::string>& overrides);

// A unit folder's piece.json (nullopt when there is none); an Error naming the file when
// it does not read.
std::optional<PieceStamp> read_piece_stamp(const std::filesystem::path& unit_folder);
// Written to a temporary file, then renamed.
void write_piece_stamp(const std::filesystem::path& unit_folder, const PieceStamp& stamp);

// "" when a and b were made by the same experiment, data and code (code ignored when
// `any_code`); otherwise what differs, for a message.
std::string piece_difference(const PieceStamp& a, const PieceStamp& b, bool any_code = false);

// The data fingerprint of a prepared data folder (manifest.json, tokenizer.model, shard
// headers), 16 hex digits.
std::string data_fingerprint(const std::filesystem::path& data_folder);

}  // namespace birdie::apps
