// experiment: the Birdie comparison in one command. For every arm (birdie, birdie-causal,
// ntp, ul2, uniform, scratch) and pre-training seed: pretrain from the same data, seed and
// token budget; fine-tune on phone books and evaluate on held-out books with the same
// protocol and budget (phonebook_eval); measure the validation loss of every objective
// class on the same validation samples. Then compare the arms.
//
//   experiment --config configs/experiments/NAME.toml [--set section.key=value ...] [--report-only]
//
// Each arm and seed is an ordinary run folder made by pretrain (<output>/<arm>/seed-<s>),
// so an interrupted experiment (Ctrl-C, a lost machine) resumes where it stopped when the
// same command is run again, and a finished step is never redone. Outputs in <output>:
// results.json, results.md (accuracy per arm × book size × queries, fine-tuning steps to
// finetune.threshold held-out accuracy per arm and seed, validation loss per class, budgets
// and wall times), accuracy.svg (accuracy against the number of queries, one line per arm)
// and finetune.svg (held-out accuracy against fine-tune steps, the threshold dashed, a dot
// where each seed reaches it). Arms are built-in (birdie, ntp, ...) or defined in the file
// ([arms.NAME]: a mixture, bidirectional layers, overrides), any of them on another model
// as ARM@MODEL.
//
// The runs are apps/common/experiment_runner.h, the units and where they are found
// experiment_units.h, the report experiment_report.h.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "apps/common/experiment_config.h"
#include "apps/common/experiment_runner.h"
#include "engine/exit_codes.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {

}  // namespace

// "a,b,c" → {"a", "b", "c"}; an empty item is an error naming the flag.
std::vector<std::string> split_list(const std::string& flag, const std::string& value) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = value.find(',', begin);
    items.push_back(value.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (items.back().empty())
      throw apps::UsageError(flag + " needs a comma-separated list without empty items, got '" + value + "'");
    if (end == std::string::npos) return items;
    begin = end + 1;
  }
}

int main(int argc, char** argv) {
  fs::path config;
  apps::ExperimentOptions options;
  apps::CommandLine cli("experiment", "the Birdie comparison: pretrain, fine-tune and evaluate every arm");
  cli.option("--config", "FILE", "the experiment file (required; e.g. configs/experiments/micro-cpu.toml)",
             [&config](const std::string& text) { config = text; });
  cli.repeated("--set", "section.key=value", "overrides one key of the experiment file (repeatable)",
               [&options](const std::string& text) { options.overrides.push_back(text); });
  cli.option("--arms", "A,B,...", "run only these arms (a piece of the experiment, for one job)",
             [&options](const std::string& text) { options.arms = split_list("--arms", text); });
  cli.repeated("--seeds", "S,...", "run only these seeds", [&options](const std::string& text) {
    for (const std::string& item : split_list("--seeds", text)) {
      char* end = nullptr;
      const long seed = std::strtol(item.c_str(), &end, 10);
      if (*end != '\0' || seed < 1 || seed > 1000000)
        throw apps::UsageError("--seeds needs seed numbers (1, 2, ...), got '" + item + "'");
      options.seeds.push_back(int(seed));
    }
  });
  cli.flag("--drop-checkpoints", options.drop_checkpoints, "delete a unit's checkpoints once it is done (its results stay)");
  cli.flag("--report-only", options.report_only, "report what is there, run nothing");
  cli.repeated("--from", "DIR", "report also the units found in DIR (another piece's experiment.output; repeatable)",
               [&options](const std::string& text) { options.from.emplace_back(text); });
  cli.flag("--accept-other-code", options.accept_other_code, "merge units that other code versions made (listed in the report)");
  cli.footer("  e.g. experiment --config configs/experiments/micro-cpu.toml");
  cli.check([&config] {
    if (config.empty()) throw apps::UsageError("--config is required");
  });
  cli.parse(argc, argv);
  try {
    apps::Experiment experiment(apps::load_experiment_config(config, options.overrides), options);
    experiment.check();
    if (!options.report_only) experiment.run();
    experiment.report();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "experiment: %s\n", e.what());
    return exit_code_for(e, exit_bad_input);
  }
}
