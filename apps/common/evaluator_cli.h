// What the evaluators' command lines share: the model to load (--checkpoint, --tokenizer,
// --context, --device, --precision), the output (--json) and its writing, and whole
// numbers and lists.
// Bad values throw UsageError; each program catches it, prints its usage and exits 2.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "apps/common/trained_model.h"

namespace birdie::apps {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct EvaluatorOptions {
  std::string checkpoint;
  std::optional<std::filesystem::path> tokenizer, json;
  int context = 0;  // 0: the run's training sequence length
  std::string device = "cpu";
  std::string precision = "auto";  // training/run_config.h: bf16 compute on cuda

  // Takes `flag value` when the flag is one of the above; false otherwise.
  bool read(const std::string& flag, const std::string& value);
  // Throws when --checkpoint is missing.
  void check() const;
};

// A whole number ≥ minimum; a comma-separated list of whole numbers ≥ 1; a range
// "MIN,MAX" (or "N" for N,N) of whole numbers ≥ 1, MIN ≤ MAX; a number ≥ minimum; a seed.
int whole_number(const std::string& flag, const std::string& text, int minimum);
std::vector<int> whole_numbers(const std::string& flag, const std::string& text);
std::pair<int, int> whole_range(const std::string& flag, const std::string& text);
double number(const std::string& flag, const std::string& text, double minimum);
std::uint64_t seed_number(const std::string& flag, const std::string& text);

// The model of `options`, and the context its cases must fit (--context, or the run's
// training sequence length): an error when neither is known. Prints one line naming the
// program, the checkpoint and the context.
struct EvaluatedModel {
  TrainedModel trained;
  int context = 0;
};
EvaluatedModel load_evaluated_model(const EvaluatorOptions& options, const std::string& program);

// Writes an evaluation's --json file (a temporary name, then renamed: never half a file)
// and prints where it is.
void write_results(const std::filesystem::path& path, const nlohmann::ordered_json& results);

}  // namespace birdie::apps
