#include "apps/common/experiment_pieces.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "training/run_config.h"
#include "apps/common/source_version.h"
#include "engine/atomic_file.h"
#include "engine/checksum.h"
#include "engine/error.h"

namespace birdie::apps {

namespace fs = std::filesystem;

namespace {

constexpr const char* stamp_file = "piece.json";

std::string file_bytes(const fs::path& path, std::size_t limit = std::string::npos) {
  std::ifstream in(path, std::ios::binary);
  BIRDIE_CHECK(in.good(), "cannot read ", path.string());
  std::string bytes;
  if (limit == std::string::npos) {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    bytes.resize(limit);
    in.read(bytes.data(), std::streamsize(limit));
    bytes.resize(std::size_t(in.gcount()));
  }
  return bytes;
}

std::string hex(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

// Each part's length, then its bytes: two lists of parts never hash alike by shifting a
// boundary.
std::string digest(const std::vector<std::string>& parts) {
  std::string all;
  for (const std::string& part : parts) all += std::to_string(part.size()) + ":" + part;
  return hex(checksum64(all.data(), all.size()));
}

}  // namespace

std::string data_fingerprint(const fs::path& folder) {
  std::vector<std::string> parts{file_bytes(folder / "manifest.json"), file_bytes(folder / "tokenizer.model")};
  std::set<fs::path> shards;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".bin") shards.insert(entry.path());
  for (const fs::path& shard : shards) parts.push_back(shard.filename().string() + file_bytes(shard, 64));
  return digest(parts);
}

PieceStamp current_piece_stamp(const ExperimentConfig& config, const std::vector<std::string>& overrides) {
  std::vector<std::string> experiment{file_bytes(config.source)};
  for (const std::string& o : overrides)
    if (o.rfind("experiment.output=", 0) != 0) experiment.push_back(o);
  std::set<fs::path> run_files;
  std::set<fs::path> data_folders;
  for (const std::string& arm : config.arms) {
    const fs::path run_file = arm_run_file(config, arm);
    run_files.insert(run_file);
    data_folders.insert(training::load_run_config(run_file, arm_pretrain_overrides(config, arm)).data);
  }
  for (const fs::path& f : run_files) experiment.push_back(file_bytes(f));
  std::vector<std::string> data;
  for (const fs::path& folder : data_folders) data.push_back(data_fingerprint(folder));
  return {digest(experiment), digest(data), std::string(source_version()), std::string(source_commit())};
}

std::optional<PieceStamp> read_piece_stamp(const fs::path& unit_folder) {
  const fs::path path = unit_folder / stamp_file;
  if (!fs::exists(path)) return std::nullopt;
  try {
    const nlohmann::json j = nlohmann::json::parse(file_bytes(path));
    return PieceStamp{j.at("experiment").get<std::string>(), j.at("data").get<std::string>(),
                      j.at("code").get<std::string>(), j.value("commit", std::string("unknown"))};
  } catch (const nlohmann::json::exception& e) {
    throw Error(detail::concat(path.string(), ": not a piece stamp as the experiment writes it (", e.what(),
                               "). Fix: delete the unit's folder to run it again"));
  }
}

void write_piece_stamp(const fs::path& unit_folder, const PieceStamp& stamp) {
  const nlohmann::json j{{"experiment", stamp.experiment}, {"data", stamp.data}, {"code", stamp.code},
                         {"commit", stamp.commit}};
  write_file_atomically(unit_folder / stamp_file, j.dump(2) + "\n");
}

std::string piece_difference(const PieceStamp& a, const PieceStamp& b, bool any_code) {
  std::string out;
  const auto differ = [&](const char* what, const std::string& x, const std::string& y, const std::string& note) {
    if (x != y) out += (out.empty() ? "" : ", ") + std::string(what) + " " + x + " against " + y + note;
  };
  differ("experiment", a.experiment, b.experiment, "");
  differ("data", a.data, b.data, "");
  // Commits differ for changes outside the code too (documentation): the code's own
  // version decides, the commits help a reader find the change.
  if (!any_code) differ("code", a.code, b.code, " (commits " + a.commit + " and " + b.commit + ")");
  return out;
}

}  // namespace birdie::apps
