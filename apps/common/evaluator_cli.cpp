#include "apps/common/evaluator_cli.h"

#include <cstdio>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/exit_codes.h"

namespace birdie::apps {

namespace {
std::string shown(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}
}  // namespace

void EvaluatorOptions::add_to(CommandLine& cli) {
  cli.option("--checkpoint", checkpoint, "DIR", "a run folder (its newest checkpoint) or a checkpoint folder (required)");
  cli.option("--tokenizer", tokenizer, "PATH", "the tokenizer (default: the run folder's tokenizer.model)");
  cli.option("--context", context, at_least(16), "T",
             "the context the cases must fit, in tokens (default: the run's training sequence length)");
  cli.option("--device", device, "cpu|cuda", "where the model runs (default cpu)");
  cli.option("--precision", precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  cli.option("--json", json, "OUT", "also write the results to this JSON file");
  cli.check([this] {
    if (checkpoint.empty()) throw UsageError("--checkpoint is required");
  });
}

void FinetuneFlags::add_to(CommandLine& cli, const std::string& curve) {
  cli.option("--finetune-steps", steps, at_least(0), "N",
             "fine-tuning steps before the evaluation, nothing saved (default " + std::to_string(steps) + ")");
  cli.option("--finetune-rows", rows, at_least(1), "R", "rows per fine-tuning step (default " + std::to_string(rows) + ")");
  cli.option("--finetune-lr", lr, number_at_least(0), "LR", "fine-tuning learning rate (default " + shown(lr) + ")");
  cli.option("--curve-every", curve_every, at_least(0), "N", curve);
}

void ItemFile::add_data(CommandLine& cli, const std::string& fields) {
  cli.option("--data", path, "FILE.jsonl", "the items, one JSON object a line (required)");
  cli.check([this, fields] {
    if (!path) throw UsageError("--data is required (a JSONL file of " + fields + ")");
  });
}

void ItemFile::add_limit(CommandLine& cli) {
  cli.option("--limit", limit, at_least(1), "N", "only the first N items");
}

void ItemFile::print_count(std::size_t items) const {
  std::printf("%zu items from %s\n", items, path->string().c_str());
}

void ItemRecords::skip(std::size_t index, const std::string& id, const std::string& why,
                       nlohmann::ordered_json record) {
  ++skipped;
  std::printf("item %zu%s skipped: %s\n", index, id.empty() ? "" : (" (" + id + ")").c_str(), why.c_str());
  record["skipped"] = true;
  json.push_back(std::move(record));
}

void ItemRecords::print_summary(const std::string& task, int scored) const {
  std::printf("\n%s: %d items scored, %d skipped (too long for the context), %.1f s\n", task.c_str(), scored, skipped,
              clock.seconds());
}

int run_evaluator(int argc, char** argv, const Evaluator& evaluator) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress reaches a log file or pipe line by line
  EvaluatorOptions options;
  CommandLine cli(evaluator.program, evaluator.description);
  options.add_to(cli);
  evaluator.flags(cli);
  cli.parse(argc, argv);
  try {
    if (evaluator.read_inputs) evaluator.read_inputs();
    auto [trained, context] = load_evaluated_model(options, evaluator.program);
    const nlohmann::ordered_json results = evaluator.evaluate(trained, context);
    if (options.json) write_results(*options.json, results);
    return exit_done;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", evaluator.program.c_str(), e.what());
    return exit_code_for(e, exit_bad_input);
  }
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
