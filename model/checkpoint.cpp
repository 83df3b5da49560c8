#include "model/checkpoint.h"

#include <nlohmann/json.hpp>

#include "model/config_file.h"

namespace birdie::model {

namespace fs = std::filesystem;

namespace {

constexpr const char* model_file = checkpoint_model_file;
constexpr const char* state_file = checkpoint_state_file;

std::string config_mismatch(const ModelConfig& saved, const ModelConfig& current) {
  const auto a = nlohmann::json::parse(model_config_to_json(saved));
  const auto b = nlohmann::json::parse(model_config_to_json(current));
  std::string differences;
  for (const auto& [key, value] : a.items())
    if (b.at(key) != value)
      differences += detail::concat("\n  model.", key, ": checkpoint ", value.dump(), ", this model ",
                                    b.at(key).dump());
  return differences;
}

}  // namespace

fs::path save_checkpoint(const fs::path& directory, LanguageModel& lm, const autograd::OptimizerState* optimizer,
                         const TrainingState& state, int keep_last) {
  fs::create_directories(directory);
  const fs::path final_path = directory / checkpoint_folder_name(state.step);
  const fs::path temporary = directory / (checkpoint_folder_name(state.step) + ".partial");
  fs::remove_all(temporary);
  fs::create_directories(temporary);

  NamedTensors weights;
  for (const auto& spec : lm.parameters().specs()) weights.emplace_back(spec.name, lm.parameters()[spec.name]);
  std::map<std::string, FileDigest> digests;
  // A write that fails (a full disk) leaves no partial folder behind to take up the space;
  // the checkpoints before it are untouched either way.
  const auto remove = [](const fs::path& folder) {
    std::error_code ignored;
    fs::remove_all(folder, ignored);
  };
  try {
    digests[model_file] =
        write_safetensors(temporary / model_file, weights, {{"config", model_config_to_json(lm.config())}});

    nlohmann::ordered_json meta;
    meta["step"] = state.step;
    meta["rng"] = {{"seed", state.rng.seed}, {"stream", state.rng.stream}, {"offset", state.rng.offset}};
    meta["optimizer_steps"] = optimizer ? optimizer->steps : 0;
    NamedTensors tensors = state.tensors;
    if (optimizer) {
      tensors.emplace_back("optimizer.first_moment", optimizer->first_moment);
      tensors.emplace_back("optimizer.second_moment", optimizer->second_moment);
    }
    std::map<std::string, std::string> metadata{{"training", meta.dump()},
                                                {"data_position", state.data_position}};
    for (const auto& [key, value] : state.sections) metadata["section." + key] = value;
    digests[state_file] = write_safetensors(temporary / state_file, tensors, metadata);
  } catch (...) {
    remove(temporary);
    throw;
  }

  // A folder of the same step is left by a run that fell back past it (or by a crash): a
  // good one is replaced, a damaged one set aside.
  if (fs::exists(final_path)) {
    if (checkpoint_problem(final_path).empty()) fs::remove_all(final_path);
    else set_aside_checkpoint(final_path);
  }
  fs::rename(temporary, final_path);
  try {
    write_done_marker(final_path, digests);
  } catch (...) {
    remove(final_path);  // without its marker it would only be set aside as incomplete
    throw;
  }

  if (keep_last > 0) {
    auto all = checkpoint_folders(directory, true);
    std::erase_if(all, [&](const auto& entry) { return entry.first > state.step; });
    for (std::size_t i = 0; i + keep_last < all.size(); ++i) fs::remove_all(all[i].second);
  }
  return final_path;
}

void load_weights(const fs::path& model_file, LanguageModel& lm) {
  const SafetensorsFile weights = read_safetensors(model_file);
  const std::string config_problems = config_mismatch(checkpoint_model_config(weights), lm.config());
  BIRDIE_CHECK(config_problems.empty(), model_file.string(), ": the checkpoint's model differs from this one:",
               config_problems);
  auto& parameters = lm.parameters();
  std::string problems;
  for (const auto& spec : parameters.specs()) {
    if (!weights.contains(spec.name)) {
      problems += "\n  missing tensor " + spec.name;
      continue;
    }
    const Tensor& stored = weights.at(spec.name);
    const Tensor& target = parameters[spec.name];
    if (stored.shape() != target.shape() || stored.dtype() != target.dtype())
      problems += detail::concat("\n  ", spec.name, ": checkpoint ", stored.describe(), ", model ",
                                 target.describe());
  }
  for (const auto& [name, tensor] : weights.tensors)
    if (!parameters.contains(name)) problems += "\n  unexpected tensor " + name;
  BIRDIE_CHECK(problems.empty(), weights.path.string(), " does not match the model:", problems);
  for (const auto& spec : parameters.specs()) parameters[spec.name].copy_from(weights.at(spec.name));
  parameters.refresh_compute_copy();
}

TrainingState load_checkpoint(const fs::path& checkpoint, LanguageModel& lm, autograd::AdamW* optimizer) {
  require_complete_checkpoint(checkpoint);
  load_weights(checkpoint / model_file, lm);

  SafetensorsFile state_file_contents = read_safetensors(checkpoint / state_file);
  const TrainingMetadata meta = read_training_metadata(state_file_contents);
  TrainingState state;
  state.step = meta.step;
  state.rng = meta.rng;
  const std::int64_t optimizer_steps = meta.optimizer_steps;
  state.data_position = state_file_contents.metadata["data_position"];
  for (const auto& [key, value] : state_file_contents.metadata)
    if (key.starts_with("section.")) state.sections[key.substr(8)] = value;
  for (auto& [name, tensor] : state_file_contents.tensors) {
    if (name == "optimizer.first_moment" || name == "optimizer.second_moment") continue;
    state.tensors.emplace_back(name, tensor);
  }
  if (optimizer) {
    try {
      optimizer->restore({optimizer_steps, state_file_contents.at("optimizer.first_moment"),
                          state_file_contents.at("optimizer.second_moment")});
    } catch (const Error& e) {
      throw Error(detail::concat(state_file_contents.path.string(), ": ", e.what()));
    }
  }
  return state;
}

}  // namespace birdie::model
