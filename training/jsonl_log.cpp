#include "training/jsonl_log.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/io_error.h"

namespace birdie::training {

void for_each_log_line(const std::filesystem::path& path, std::int64_t keep_through_step, const LogLineVisitor& visit) {
  std::ifstream in(path);
  if (!in) return;
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_object() && json.contains("step") && json["step"].is_number_integer() &&
        json["step"].get<std::int64_t>() <= keep_through_step)
      visit(line, path.string() + ":" + std::to_string(number));
  }
}

JsonlLog::JsonlLog(std::filesystem::path path, std::int64_t keep_through_step, bool write, const LogLineVisitor& check)
    : path_(std::move(path)), write_(write) {
  if (keep_through_step > 0)
    for_each_log_line(path_, keep_through_step, [&](const std::string& line, const std::string& where) {
      if (check) check(line, where);
      lines_.push_back(line);
    });
  if (!write_) return;
  std::string kept;
  for (const auto& l : lines_) kept += l + "\n";
  write_file_atomically(path_, kept);
  out_.open(path_, std::ios::app);
  BIRDIE_CHECK(out_.good(), "cannot open ", path_.string(), " for appending");
}

void JsonlLog::append(const std::string& json_line) {
  lines_.push_back(json_line);
  if (!write_) return;
  out_ << json_line << '\n';
  out_.flush();
  // A line lost to a full disk would leave a log that disagrees with the checkpoints.
  if (!out_) throw IoError(detail::concat("cannot append to ", path_.string(), ": ", std::strerror(errno),
                                          " (is the disk full?)"));
}

}  // namespace birdie::training
