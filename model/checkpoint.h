// Checkpoints: one folder per saved step,
//     <dir>/step_00001200/model.safetensors           weights by name + the model config
//     <dir>/step_00001200/training_state.safetensors  optimizer moments, step, RNG, data
//                                                     position, sections of later layers
//     <dir>/step_00001200/DONE                        written last: the folder is complete
// The folder is written under a temporary name, every file flushed, then renamed; only
// folders with DONE count, so an interrupted save never hides the previous checkpoint.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

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

// Saves and keeps the newest `keep_last` complete checkpoints (≤ 0 keeps all). Returns
// the checkpoint's folder. `optimizer` may be null (weights only); it holds the whole
// buffer's moments (autograd::AdamW::state(), gathered from the ranks when sharded).
std::filesystem::path save_checkpoint(const std::filesystem::path& directory, LanguageModel& lm,
                                      const autograd::OptimizerState* optimizer, const TrainingState& state,
                                      int keep_last);

// The newest complete checkpoint folder in `directory`, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory);

// The model configuration stored with a checkpoint (to build the model before loading).
ModelConfig read_checkpoint_config(const std::filesystem::path& checkpoint);

// Loads the weights of a model.safetensors file (written by save_checkpoint or by any
// tool using the same names) into an existing model, checking config, names, shapes and
// dtypes; the error lists every mismatch.
void load_weights(const std::filesystem::path& model_file, LanguageModel& lm);

// Loads weights (and optimizer state when `optimizer` is given) into an existing model.
// Names, shapes, dtypes and the config must match; the error lists every mismatch.
TrainingState load_checkpoint(const std::filesystem::path& checkpoint, LanguageModel& lm,
                              autograd::AdamW* optimizer);

}  // namespace birdie::model
