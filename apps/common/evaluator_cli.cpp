#include "apps/common/evaluator_cli.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace birdie::apps {

bool EvaluatorOptions::read(const std::string& flag, const std::string& value) {
  if (flag == "--checkpoint") checkpoint = value;
  else if (flag == "--tokenizer") tokenizer = value;
  else if (flag == "--json") json = value;
  else if (flag == "--context") context = whole_number(flag, value, 16);
  else if (flag == "--device") device = value;
  else if (flag == "--precision") precision = value;
  else return false;
  return true;
}

void EvaluatorOptions::check() const {
  if (checkpoint.empty()) throw UsageError("--checkpoint is required");
}

int whole_number(const std::string& flag, const std::string& text, int minimum) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < minimum || v > 1'000'000'000)
    throw UsageError(flag + " takes whole numbers ≥ " + std::to_string(minimum) + ", got '" + text + "'");
  return static_cast<int>(v);
}

std::vector<int> whole_numbers(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(whole_number(flag, item, 1));
  if (out.empty()) throw UsageError(flag + " takes positive whole numbers separated by commas");
  return out;
}

std::pair<int, int> whole_range(const std::string& flag, const std::string& text) {
  const std::vector<int> v = whole_numbers(flag, text);
  if (v.size() > 2) throw UsageError(flag + " takes MIN,MAX");
  if (v.front() > v.back()) throw UsageError(flag + " " + text + ": the range is empty (MIN > MAX)");
  return {v.front(), v.back()};
}

double number(const std::string& flag, const std::string& text, double minimum) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= minimum) || !std::isfinite(v)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", minimum);
    throw UsageError(flag + " needs a number ≥ " + shown + ", got '" + text + "'");
  }
  return v;
}

std::uint64_t seed_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + " takes a whole number ≥ 0 (a 64-bit seed), got '" + text + "'");
  return v;
}

EvaluatedModel load_evaluated_model(const EvaluatorOptions& options, const std::string& program) {
  EvaluatedModel m{load_trained_model(options.checkpoint, options.tokenizer, parse_device(options.device),
                                      options.precision)};
  m.context = options.context > 0 ? options.context : m.trained.context;
  BIRDIE_CHECK(m.context > 0, "the model's context is unknown (no config.toml in its run folder): pass --context T");
  std::printf("%s: %s, context %d tokens\n", program.c_str(), m.trained.checkpoint.string().c_str(), m.context);
  return m;
}

void write_results(const std::filesystem::path& path, const nlohmann::ordered_json& results) {
  write_file_atomically(path, results.dump(2) + "\n");  // a full disk: an IoError, exit code 4
  std::printf("results: %s\n", path.string().c_str());
}

}  // namespace birdie::apps
