#include "model/checkpoint.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/checksum.h"
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

// The checkpoint folders (step_N) in `directory`, oldest first, complete or not.
std::vector<std::pair<std::int64_t, fs::path>> checkpoint_folders(const fs::path& directory) {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  std::error_code error;
  if (!fs::is_directory(directory, error)) return found;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    long long step = 0;
    char rest = 0;
    if (std::sscanf(name.c_str(), "step_%lld%c", &step, &rest) != 1 || !entry.is_directory(error)) continue;
    found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// The complete checkpoints (with DONE) in `directory`, oldest first.
std::vector<std::pair<std::int64_t, fs::path>> complete_checkpoints(const fs::path& directory) {
  auto found = checkpoint_folders(directory);
  std::erase_if(found, [](const auto& entry) { return !fs::exists(entry.second / done_file); });
  return found;
}

// DONE: "complete", then one line per file: its name, size in bytes and checksum (hex).
std::string done_marker(const std::map<std::string, FileDigest>& files) {
  std::string text = "complete\n";
  for (const auto& [name, digest] : files) {
    char line[160];
    std::snprintf(line, sizeof line, "%s %llu %016llx\n", name.c_str(), static_cast<unsigned long long>(digest.bytes),
                  static_cast<unsigned long long>(digest.checksum));
    text += line;
  }
  return text;
}

// The digests a DONE marker records (none for a marker written before they were), or an
// empty optional when the marker is not one.
std::optional<std::map<std::string, FileDigest>> read_done_marker(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line != "complete") return std::nullopt;
  std::map<std::string, FileDigest> files;
  while (std::getline(in, line) && files.size() < 16) {
    char name[64];
    unsigned long long bytes = 0, checksum = 0;
    char rest = 0;
    if (std::sscanf(line.c_str(), "%63s %llu %llx%c", name, &bytes, &checksum, &rest) != 3) return std::nullopt;
    files[name] = {bytes, checksum};
  }
  return files;
}

FileDigest digest_of_file(const fs::path& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  Checksum64 sum(size);
  std::vector<char> buffer(std::size_t(4) << 20);
  std::uint64_t read = 0;
  while (in && read < size) {
    in.read(buffer.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(buffer.size(), size - read)));
    const auto got = static_cast<std::size_t>(in.gcount());
    sum.add(buffer.data(), got);
    read += got;
  }
  return {read, sum.value()};
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
  std::map<std::string, FileDigest> digests;
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

  // A folder of the same step is left by a run that fell back past it (or by a crash): a
  // good one is replaced, a damaged one set aside.
  if (fs::exists(final_path)) {
    if (checkpoint_problem(final_path).empty()) fs::remove_all(final_path);
    else set_aside_checkpoint(final_path);
  }
  fs::rename(temporary, final_path);
  write_file_atomically(final_path / done_file, done_marker(digests));

  if (keep_last > 0) {
    auto all = complete_checkpoints(directory);
    std::erase_if(all, [&](const auto& entry) { return entry.first > state.step; });
    for (std::size_t i = 0; i + keep_last < all.size(); ++i) fs::remove_all(all[i].second);
  }
  return final_path;
}

std::optional<fs::path> latest_checkpoint(const fs::path& directory) {
  auto all = complete_checkpoints(directory);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

std::string checkpoint_problem(const fs::path& checkpoint) {
  std::error_code error;
  if (!fs::exists(checkpoint / done_file, error))
    return "no DONE marker: it was interrupted while being written";
  const auto digests = read_done_marker(checkpoint / done_file);
  if (!digests) return detail::concat((checkpoint / done_file).string(), " is not a DONE marker (damaged)");
  for (const char* name : {model_file, state_file}) {
    const fs::path path = checkpoint / name;
    if (!fs::is_regular_file(path, error)) return detail::concat(path.string(), " is missing");
    const auto recorded = digests->find(name);
    if (recorded == digests->end()) {  // DONE written before it recorded checksums: read the file
      try {
        const SafetensorsFile file = read_safetensors(path);
        if (name == std::string(model_file)) (void)checkpoint_model_config(file);
        else (void)read_training_metadata(file);
      } catch (const Error& e) {
        return e.what();
      }
      continue;
    }
    const std::uint64_t size = fs::file_size(path, error);
    if (error) return detail::concat("cannot read the size of ", path.string(), ": ", error.message());
    if (size != recorded->second.bytes)
      return detail::concat(path.string(), " is ", size, " bytes but DONE records ", recorded->second.bytes,
                            size < recorded->second.bytes ? " (truncated)" : " (longer than written)");
    if (digest_of_file(path, size) != recorded->second)
      return detail::concat(path.string(), " does not match the checksum DONE records (its bytes changed since it "
                            "was written)");
  }
  return "";
}

fs::path set_aside_checkpoint(const fs::path& folder) {
  fs::path target = folder.string() + ".damaged";
  for (int n = 2; fs::exists(target); ++n) target = folder.string() + ".damaged-" + std::to_string(n);
  fs::rename(folder, target);
  return target;
}

CheckpointChoice choose_checkpoint(const fs::path& directory) {
  const auto folders = checkpoint_folders(directory);
  CheckpointChoice choice;
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    std::string problem = checkpoint_problem(it->second);
    if (problem.empty()) {
      choice.checkpoint = it->second;
      return choice;
    }
    choice.damaged.emplace_back(it->second, std::move(problem));
  }
  if (choice.damaged.empty()) return choice;
  std::string list;
  for (const auto& [folder, problem] : choice.damaged) list += "\n  " + folder.string() + ": " + problem;
  throw Error(detail::concat("no good checkpoint in ", directory.string(), ": every checkpoint folder is damaged or "
                             "incomplete:", list, "\nFix: restore a checkpoint from a copy, or start the run again "
                             "in another folder (--set run.output=...); nothing was deleted"));
}

namespace {

void require_complete(const fs::path& checkpoint) {
  BIRDIE_CHECK(fs::exists(checkpoint / done_file), checkpoint.string(),
               " is not a complete checkpoint (no DONE marker): it was interrupted while being "
               "written; use an earlier one");
}

}  // namespace

ModelConfig checkpoint_model_config(const SafetensorsFile& weights) {
  auto it = weights.metadata.find("config");
  BIRDIE_CHECK(it != weights.metadata.end(), weights.path.string(), ": no model config in the metadata");
  return model_config_from_json(it->second, weights.path.string() + " (metadata 'config')");
}

TrainingMetadata read_training_metadata(const SafetensorsFile& state) {
  const auto it = state.metadata.find("training");
  BIRDIE_CHECK(it != state.metadata.end(), state.path.string(), ": no 'training' metadata (step, RNG, optimizer steps)");
  const nlohmann::json meta = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  const auto field = [&](const nlohmann::json& object, const char* key, const char* name) -> std::uint64_t {
    const auto value = object.is_object() ? object.find(key) : object.end();
    BIRDIE_CHECK(value != object.end() && value->is_number_unsigned(), state.path.string(), ": metadata 'training': ",
                 name, " is missing or not a whole number ≥ 0 (", it->second.substr(0, 200), ")");
    return value->get<std::uint64_t>();
  };
  BIRDIE_CHECK(meta.is_object(), state.path.string(), ": metadata 'training' is not a JSON object");
  TrainingMetadata m;
  const std::uint64_t step = field(meta, "step", "step"), optimizer_steps = field(meta, "optimizer_steps", "optimizer_steps");
  BIRDIE_CHECK(step <= std::uint64_t(INT64_MAX) && optimizer_steps <= std::uint64_t(INT64_MAX), state.path.string(),
               ": metadata 'training': step or optimizer_steps is out of range");
  m.step = static_cast<std::int64_t>(step);
  m.optimizer_steps = static_cast<std::int64_t>(optimizer_steps);
  const nlohmann::json rng = meta.contains("rng") ? meta["rng"] : nlohmann::json();
  m.rng = {field(rng, "seed", "rng.seed"), field(rng, "stream", "rng.stream"), field(rng, "offset", "rng.offset")};
  return m;
}

ModelConfig read_checkpoint_config(const fs::path& checkpoint) {
  require_complete(checkpoint);
  return checkpoint_model_config(read_safetensors(checkpoint / model_file));
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
  require_complete(checkpoint);
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
