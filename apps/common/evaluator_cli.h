// What the evaluators (phonebook_eval, mqar_eval, qa_eval, choice_eval) share: the main()
// around their measurement. The flags of the model to load (--checkpoint, --tokenizer,
// --context, --device, --precision) and of the output (--json), loading the checkpoint,
// writing the results, and the errors: a bad command line exits 2 as every program's does
// (apps/common/command_line.h); an error while evaluating prints "<program>: message" and
// exits 2, or 4 when the machine could not write a file (engine/exit_codes.h).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "apps/common/trained_model.h"
#include "engine/timer.h"

namespace birdie::apps {

struct EvaluatorOptions {
  std::string checkpoint;
  std::optional<std::filesystem::path> tokenizer, json;
  int context = 0;  // 0: the run's training sequence length
  std::string device = "cpu";
  std::string precision = "auto";  // training/run_config.h: bf16 compute on cuda

  // --checkpoint (required), --tokenizer, --context, --device, --precision, --json.
  void add_to(CommandLine& cli);
};

// The fine-tuning flags of the evaluators that fine-tune before they measure:
// --finetune-steps, --finetune-rows, --finetune-lr and --curve-every. Their defaults are
// the values the fields hold when add_to() is called.
struct FinetuneFlags {
  int steps = 0, rows = 8;
  double lr = 1e-3;
  int curve_every = 0;

  // `curve`: what --curve-every measures, for --help.
  void add_to(CommandLine& cli, const std::string& curve);
};

// The items of the evaluators that read them from the user's JSONL file (qa_eval,
// choice_eval): --data and --limit.
struct ItemFile {
  std::optional<std::filesystem::path> path;
  int limit = 0;  // 0: every item

  // --data, required: `fields` (the keys of a line) completes the error without it.
  void add_data(CommandLine& cli, const std::string& fields);
  // --limit N.
  void add_limit(CommandLine& cli);
  // What `reader` finds in the file, the first --limit items of it.
  template <class Item>
  std::vector<Item> read(std::vector<Item> (*reader)(const std::filesystem::path&)) const {
    std::vector<Item> items = reader(*path);
    if (limit > 0 && int(items.size()) > limit) items.resize(static_cast<std::size_t>(limit));
    return items;
  }
  // "N items from FILE".
  void print_count(std::size_t items) const;
};

// What an evaluator of items keeps while it scores them: one record per item for --json,
// how many were skipped as too long for the context, and the time since it began.
struct ItemRecords {
  nlohmann::ordered_json json = nlohmann::ordered_json::array();
  int skipped = 0;
  Stopwatch clock;

  // Prints "item I (ID) skipped: <why>" and keeps `record` with "skipped": true.
  void skip(std::size_t index, const std::string& id, const std::string& why, nlohmann::ordered_json record);
  // "\n<task>: N items scored, M skipped (too long for the context), S s".
  void print_summary(const std::string& task, int scored) const;
};

// An evaluator: its own flags and its measurement, the rest is run_evaluator's.
struct Evaluator {
  std::string program, description;
  // Its own flags, and the checks between them (CommandLine::check).
  std::function<void(CommandLine&)> flags = {};
  // Reads its input files before the model loads (optional): a bad file stops it at once.
  std::function<void()> read_inputs = {};
  // Measures the model, printing as it goes; returns the results that --json writes.
  std::function<nlohmann::ordered_json(TrainedModel& trained, int context)> evaluate = {};
};

// An evaluator's main(): reads the command line, reads its inputs, loads the model (one
// line naming the checkpoint and the context), evaluates, writes --json. Returns the exit code.
int run_evaluator(int argc, char** argv, const Evaluator& evaluator);

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
