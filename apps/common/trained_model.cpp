#include "apps/common/trained_model.h"

#include <toml++/toml.h>

#include <cstdio>

#include "training/run_config.h"
#include "model/checkpoint.h"

namespace birdie::apps {

namespace fs = std::filesystem;

TrainedModel load_trained_model(const fs::path& path, const std::optional<fs::path>& tokenizer, Device device,
                                const std::string& precision) {
  BIRDIE_CHECK(fs::exists(path), path.string(), " does not exist: give a run folder (e.g. runs/tiny-cpu) or a "
               "checkpoint folder inside it");
  fs::path checkpoint = path, run_folder;
  if (fs::exists(path / "DONE")) {
    run_folder = path.parent_path().parent_path();  // runs/x/checkpoints/step_N
  } else {
    const model::CheckpointChoice choice = model::choose_checkpoint(path / "checkpoints");
    BIRDIE_CHECK(choice.checkpoint.has_value(), path.string(), " has no checkpoint (no checkpoints/step_*); "
                 "train first, or pass a checkpoint folder");
    for (const auto& [folder, problem] : choice.damaged)
      std::fprintf(stderr, "warning: checkpoint %s is damaged or incomplete: %s. Using %s instead\n",
                   folder.string().c_str(), problem.c_str(), choice.checkpoint->string().c_str());
    checkpoint = *choice.checkpoint;
    run_folder = path;
  }
  const fs::path tokenizer_path = tokenizer.value_or(run_folder / "tokenizer.model");
  BIRDIE_CHECK(fs::exists(tokenizer_path), "no tokenizer at ", tokenizer_path.string(),
               ": pass --tokenizer PATH (the tokenizer.model of the data the model was trained on)");
  const model::ModelConfig config = model::read_checkpoint_config(checkpoint);
  TrainedModel out{checkpoint, run_folder, model::make_language_model(config, DType::f32, device, 0,
                                                                        training::compute_dtype(precision, device)),
                   data::Tokenizer::load(tokenizer_path, static_cast<int>(config.vocab)), 0};
  model::load_checkpoint(checkpoint, *out.lm, nullptr);
  if (fs::exists(run_folder / "config.toml")) {
    try {
      const toml::table run = toml::parse_file((run_folder / "config.toml").string());
      out.context = run["batch"]["sequence_length"].value_or(0);
    } catch (const toml::parse_error&) {
      out.context = 0;  // an unreadable copy of the config only loses the default context
    }
  }
  return out;
}

}  // namespace birdie::apps
