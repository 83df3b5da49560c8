// Append-only JSONL logs of a run (metrics.jsonl, evaluations.jsonl). Every line carries
// a "step"; a resumed run first drops the lines written after its checkpoint's step, so
// the logs read as if the run had never stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace birdie::training {

// Calls visit(line, "path:N") for each line of a log that is a JSON object whose "step" is
// a whole number ≤ keep_through_step, in order. Other lines (one cut short by a crash)
// are passed over. A missing file has no lines.
using LogLineVisitor = std::function<void(const std::string& line, const std::string& where)>;
void for_each_log_line(const std::filesystem::path& path, std::int64_t keep_through_step, const LogLineVisitor& visit);

class JsonlLog {
 public:
  // Opens for appending; keeps only the lines whose "step" is ≤ keep_through_step
  // (all lines are dropped when it is 0: a fresh run), each first given to `check` (which
  // throws on a line it cannot read). With write = false (the ranks of a data-parallel job
  // other than rank 0) the file is read but never written.
  JsonlLog(std::filesystem::path path, std::int64_t keep_through_step, bool write = true,
           const LogLineVisitor& check = {});
  void append(const std::string& json_line);
  const std::vector<std::string>& lines() const { return lines_; }  // everything in the file
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> lines_;
  std::ofstream out_;
  bool write_ = true;
};

}  // namespace birdie::training
