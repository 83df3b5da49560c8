// Checkpoint folders as files, apart from any model: one folder per saved step,
//     <dir>/step_00001200/model.safetensors           weights by name + the model config
//     <dir>/step_00001200/training_state.safetensors  optimizer moments, step, RNG, data
//                                                     position, sections of later layers
//     <dir>/step_00001200/DONE                        written last: the folder is complete;
//                                                     it records each file's size and checksum
// The folder is written under a temporary name, every file flushed, then renamed; only
// folders with DONE count, so an interrupted save never hides the previous checkpoint.
// A checkpoint damaged later (a file truncated, changed or lost) is found by comparing its
// files with DONE: choose_checkpoint() then falls back to the newest good one, and no
// damaged checkpoint is ever deleted. Writing and loading with a model: model/checkpoint.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/random.h"
#include "model/model_config.h"
#include "model/safetensors.h"

namespace birdie::model {

inline constexpr const char* checkpoint_model_file = "model.safetensors";
inline constexpr const char* checkpoint_state_file = "training_state.safetensors";
inline constexpr const char* checkpoint_done_file = "DONE";

// "step_00001200"
std::string checkpoint_folder_name(std::int64_t step);

// The checkpoint folders (step_N) in `directory`, oldest first: complete ones (with DONE)
// only, or all.
std::vector<std::pair<std::int64_t, std::filesystem::path>> checkpoint_folders(const std::filesystem::path& directory,
                                                                               bool complete_only);

// Writes DONE into a checkpoint folder: the files' digests (as write_safetensors returns them).
void write_done_marker(const std::filesystem::path& checkpoint, const std::map<std::string, FileDigest>& files);

// The newest complete checkpoint folder (one with DONE) in `directory`, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory);

// What is wrong with a checkpoint folder ("" when nothing): no DONE marker, a file missing,
// shorter or longer than DONE records, or not matching its checksum; for checkpoints whose
// DONE records no checksums (written before they did), any file that does not read.
std::string checkpoint_problem(const std::filesystem::path& checkpoint);

struct CheckpointChoice {
  std::optional<std::filesystem::path> checkpoint;  // the newest good one; none when there is no checkpoint
  // The newer checkpoint folders passed over, newest first, with what is wrong with each.
  std::vector<std::pair<std::filesystem::path, std::string>> damaged;
};

// The newest good checkpoint of `directory` (step_N folders, with or without DONE). Throws
// an Error listing every folder's problem when there are checkpoint folders but none is
// good. Reads only: nothing is moved or deleted.
CheckpointChoice choose_checkpoint(const std::filesystem::path& directory);

// Renames a damaged checkpoint folder out of the way, to step_N.damaged (or .damaged-2, ...):
// kept for inspection, no longer a checkpoint. Returns the new name.
std::filesystem::path set_aside_checkpoint(const std::filesystem::path& folder);

// Throws unless the folder has its DONE marker (naming the folder and the fix).
void require_complete_checkpoint(const std::filesystem::path& checkpoint);

// The model configuration stored with a checkpoint (to build the model before loading).
ModelConfig read_checkpoint_config(const std::filesystem::path& checkpoint);

// The model configuration in a model.safetensors file's metadata.
ModelConfig checkpoint_model_config(const SafetensorsFile& weights);

// The "training" metadata of a training_state.safetensors file.
struct TrainingMetadata {
  std::int64_t step = 0;
  RandomState rng;
  std::int64_t optimizer_steps = 0;
};
TrainingMetadata read_training_metadata(const SafetensorsFile& state);

}  // namespace birdie::model
