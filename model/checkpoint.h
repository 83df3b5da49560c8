// Checkpoints of a model (the folder layout and its checks: model/checkpoint_files.h):
// saving a model with its optimizer and training state, and loading them back.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "autograd/adamw.h"
#include "engine/random.h"
#include "model/checkpoint_files.h"
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

// Loads the weights of a model.safetensors file (written by save_checkpoint or by any
// tool using the same names) into an existing model, checking config, names, shapes and
// dtypes; the error lists every mismatch.
void load_weights(const std::filesystem::path& model_file, LanguageModel& lm);

// Loads weights (and optimizer state when `optimizer` is given) into an existing model.
// Names, shapes, dtypes and the config must match; the error lists every mismatch.
TrainingState load_checkpoint(const std::filesystem::path& checkpoint, LanguageModel& lm,
                              autograd::AdamW* optimizer);

}  // namespace birdie::model
