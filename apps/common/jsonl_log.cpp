#include "apps/common/jsonl_log.h"

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "model/safetensors.h"

namespace birdie::apps {

JsonlLog::JsonlLog(std::filesystem::path path, std::int64_t keep_through_step, bool write)
    : path_(std::move(path)), write_(write) {
  if (keep_through_step > 0 && std::filesystem::exists(path_)) {
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (json.is_object() && json.contains("step") && json["step"].is_number_integer() &&
          json["step"].get<std::int64_t>() <= keep_through_step)
        lines_.push_back(line);
    }
  }
  if (!write_) return;
  std::string kept;
  for (const auto& l : lines_) kept += l + "\n";
  model::write_file_atomically(path_, kept);
  out_.open(path_, std::ios::app);
  BIRDIE_CHECK(out_.good(), "cannot open ", path_.string(), " for appending");
}

void JsonlLog::append(const std::string& json_line) {
  lines_.push_back(json_line);
  if (!write_) return;
  out_ << json_line << '\n';
  out_.flush();
}

}  // namespace birdie::apps
