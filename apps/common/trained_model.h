// A trained model as the evaluation programs find it: the checkpoint (a run folder means
// its newest complete checkpoint), the model built from the config stored with it, the
// tokenizer the run copied into its folder, and the sequence length it was trained with.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "data/tokenizer.h"
#include "model/language_model.h"

namespace birdie::apps {

struct TrainedModel {
  std::filesystem::path checkpoint;  // the step folder loaded
  std::filesystem::path run_folder;
  std::unique_ptr<model::LanguageModel> lm;
  data::Tokenizer tokenizer;
  int context = 0;  // batch.sequence_length of the run (0 when unknown)
};

// `path`: a run folder (runs/x) or one of its checkpoints (runs/x/checkpoints/step_...).
// The tokenizer defaults to <run folder>/tokenizer.model; errors name what is missing.
// precision: "auto", "fp32" or "bf16" (training/run_config.h).
TrainedModel load_trained_model(const std::filesystem::path& path,
                                const std::optional<std::filesystem::path>& tokenizer, Device device,
                                const std::string& precision = "auto");

}  // namespace birdie::apps
