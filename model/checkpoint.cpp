#include "model/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "model/config_file.h"

namespace birdie::model {

namespace fs = std::filesystem;

namespace {

constexpr const char* model_file = "model.safetensors";
constexpr const char* state_file = "training_state.safetensors";
constexpr const char* done_file = "DONE";

std::string step_folder_name(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld", static_cast<long long>(step));
  return name;
}

// The complete checkpoints in `directory`, oldest first.
std::vector<std::pair<std::int64_t, fs::path>> complete_checkpoints(const fs::path& directory) {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  if (!fs::is_directory(directory)) return found;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    long long step = 0;
    char rest = 0;
    if (std::sscanf(name.c_str(), "step_%lld%c", &step, &rest) != 1) continue;
    if (fs::exists(entry.path() / done_file)) found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

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
  const fs::path final_path = directory / step_folder_name(state.step);
  const fs::path temporary = directory / (step_folder_name(state.step) + ".partial");
  fs::remove_all(temporary);
  fs::create_directories(temporary);

  NamedTensors weights;
  for (const auto& spec : lm.parameters().specs()) weights.emplace_back(spec.name, lm.parameters()[spec.name]);
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
  write_safetensors(temporary / state_file, tensors, metadata);

  fs::remove_all(final_path);  // a stale copy of the same step (e.g. after a crash)
  fs::rename(temporary, final_path);
  write_file_atomically(final_path / done_file, "complete\n");

  if (keep_last > 0) {
    auto all = complete_checkpoints(directory);
    for (std::size_t i = 0; i + keep_last < all.size(); ++i) fs::remove_all(all[i].second);
  }
  return final_path;
}

std::optional<fs::path> latest_checkpoint(const fs::path& directory) {
  auto all = complete_checkpoints(directory);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

namespace {

void require_complete(const fs::path& checkpoint) {
  BIRDIE_CHECK(fs::exists(checkpoint / done_file), checkpoint.string(),
               " is not a complete checkpoint (no DONE marker): it was interrupted while being "
               "written; use an earlier one");
}

ModelConfig config_of(const SafetensorsFile& weights) {
  auto it = weights.metadata.find("config");
  BIRDIE_CHECK(it != weights.metadata.end(), weights.path.string(), ": no model config in the metadata");
  return model_config_from_json(it->second, weights.path.string());
}

}  // namespace

ModelConfig read_checkpoint_config(const fs::path& checkpoint) {
  require_complete(checkpoint);
  return config_of(read_safetensors(checkpoint / model_file));
}

void load_weights(const fs::path& model_file, LanguageModel& lm) {
  const SafetensorsFile weights = read_safetensors(model_file);
  const std::string config_problems = config_mismatch(config_of(weights), lm.config());
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
  require_complete(checkpoint);
  load_weights(checkpoint / model_file, lm);

  SafetensorsFile state_file_contents = read_safetensors(checkpoint / state_file);
  TrainingState state;
  std::int64_t optimizer_steps = 0;
  try {
    const auto meta = nlohmann::json::parse(state_file_contents.metadata.at("training"));
    state.step = meta.at("step").get<std::int64_t>();
    state.rng = {meta.at("rng").at("seed").get<std::uint64_t>(), meta.at("rng").at("stream").get<std::uint64_t>(),
                 meta.at("rng").at("offset").get<std::uint64_t>()};
    if (optimizer) optimizer_steps = meta.at("optimizer_steps").get<std::int64_t>();
  } catch (const std::exception& e) {
    throw Error(detail::concat(state_file_contents.path.string(), ": training metadata is missing or "
                               "malformed (", e.what(), ")"));
  }
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
