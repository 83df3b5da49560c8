#include "model/checkpoint_files.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/checksum.h"
#include "engine/error.h"
#include "model/config_file.h"

namespace birdie::model {

namespace fs = std::filesystem;

namespace {

constexpr const char* model_file = checkpoint_model_file;
constexpr const char* state_file = checkpoint_state_file;
constexpr const char* done_file = checkpoint_done_file;

// The digests a DONE marker records (none for a marker written before they were), or an
// empty optional when the marker is not one.
std::optional<std::map<std::string, FileDigest>> read_done_marker(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error || size > 4096) return std::nullopt;  // a few lines at most
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
  std::vector<char> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(size, std::uint64_t(4) << 20)));
  std::uint64_t read = 0;
  while (in && read < size) {
    in.read(buffer.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(buffer.size(), size - read)));
    const auto got = static_cast<std::size_t>(in.gcount());
    sum.add(buffer.data(), got);
    read += got;
  }
  return {read, sum.value()};
}

}  // namespace

std::string checkpoint_folder_name(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld", static_cast<long long>(step));
  return name;
}

std::vector<std::pair<std::int64_t, fs::path>> checkpoint_folders(const fs::path& directory, bool complete_only) {
  std::vector<std::pair<std::int64_t, fs::path>> found;
  std::error_code error;
  if (!fs::is_directory(directory, error)) return found;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    long long step = 0;
    char rest = 0;
    if (std::sscanf(name.c_str(), "step_%lld%c", &step, &rest) != 1 || !entry.is_directory(error)) continue;
    if (complete_only && !fs::exists(entry.path() / done_file, error)) continue;
    found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// DONE: "complete", then one line per file: its name, size in bytes and checksum (hex).
void write_done_marker(const fs::path& checkpoint, const std::map<std::string, FileDigest>& files) {
  std::string text = "complete\n";
  for (const auto& [name, digest] : files) {
    char line[160];
    std::snprintf(line, sizeof line, "%s %llu %016llx\n", name.c_str(), static_cast<unsigned long long>(digest.bytes),
                  static_cast<unsigned long long>(digest.checksum));
    text += line;
  }
  write_file_atomically(checkpoint / done_file, text);
}

std::optional<fs::path> latest_checkpoint(const fs::path& directory) {
  auto all = checkpoint_folders(directory, true);
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
  const auto folders = checkpoint_folders(directory, false);
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

void require_complete_checkpoint(const fs::path& checkpoint) {
  BIRDIE_CHECK(fs::exists(checkpoint / done_file), checkpoint.string(),
               " is not a complete checkpoint (no DONE marker): it was interrupted while being "
               "written; use an earlier one");
}

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
  require_complete_checkpoint(checkpoint);
  return checkpoint_model_config(read_safetensors(checkpoint / model_file));
}

}  // namespace birdie::model
