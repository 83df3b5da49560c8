// Checkpoints: one folder per saved step,
//     <dir>/step_00001200/model.safetensors           weights by name + the model config
//     <dir>/step_00001200/training_state.safetensors  optimizer moments, step, RNG, data
//                                                     position, sections of later layers
//     <dir>/step_00001200/DONE                        written last: the folder is complete;
//                                                     it records each file's size and checksum
// The folder is written under a temporary name, every file flushed, then renamed; only
// folders with DONE count, so an interrupted save never hides the previous checkpoint.
// A checkpoint damaged later (a file truncated, changed or lost) is found by comparing its
// files with DONE: choose_checkpoint() then falls back to the newest good one, and no
// damaged checkpoint is ever deleted.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/adamw.h"
#include "engine/random.h"
#include "model/language_model.h"
#include "model/safetensors.h"

namespace birdie::model {

struct TrainingState {
  std::int64_t step = 0;
  RandomState rng;
  std::string data_position;                    // the loader's own serialization
  std::map<std::string, std::string> sections;  // text sections of later layers (JSON)
  NamedTensors tensors;                         // tensors of later layers (e.g. the critic)
};

// Saves and keeps the newest `keep_last` complete checkpoints up to this one (≤ 0 keeps
// all; newer ones are left alone). A folder of the same step is replaced when it is a good
// checkpoint and set aside (set_aside_checkpoint) when it is not. Returns the checkpoint's
// folder. `optimizer` may be null (weights only); it holds the whole
// buffer's moments (autograd::AdamW::state(), gathered from the ranks when sharded).
std::filesystem::path save_checkpoint(const std::filesystem::path& directory, LanguageModel& lm,
                                      const autograd::OptimizerState* optimizer, const TrainingState& state,
                                      int keep_last);

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

// Loads the weights of a model.safetensors file (written by save_checkpoint or by any
// tool using the same names) into an existing model, checking config, names, shapes and
// dtypes; the error lists every mismatch.
void load_weights(const std::filesystem::path& model_file, LanguageModel& lm);

// Loads weights (and optimizer state when `optimizer` is given) into an existing model.
// Names, shapes, dtypes and the config must match; the error lists every mismatch.
TrainingState load_checkpoint(const std::filesystem::path& checkpoint, LanguageModel& lm,
                              autograd::AdamW* optimizer);

}  // namespace birdie::model
