// An experiment file (configs/experiments/*.toml): the arms to compare and the settings
// every arm shares, fixed before any run starts.
//
//   [experiment]
//   output = "runs/experiments/micro-cpu"     # one run folder per arm and seed inside
//   run = "configs/experiments/micro-cpu-run.toml"   # the pre-training run every arm starts from
//   arms = ["birdie", "birdie-causal", "ntp"]  # built-in arms, see arm_overrides()
//   models = { hawk = "configs/experiments/micro-cpu-hawk-run.toml" }  # optional: see below
//   seeds = 1                                  # pre-training seeds per arm: run.seed = 1..seeds
//   set = ["schedule.steps=400"]               # optional overrides for every arm
//
//   [finetune]      # phonebook_eval's fine-tuning (same books, budget, protocol for all)
//   protocol = "small"   steps = 150   rows = 8   lr = 1e-3   entries = "2,fit"
//   queries = "1,4"   split_names = true   curve_every = 25   curve_books = 16
//
//   [evaluation]    # held-out books (seeded apart from the fine-tuning books)
//   entries = [4, 8, 16]   queries = [1, 2, 4]   books = 8   seed = 7
//
// An arm trains the model of `run` unless its name ends in @MODEL ("birdie@hawk"): it then
// starts from experiment.models.MODEL, another whole run configuration (the same data,
// schedule and objectives, written by the user, with another [model], e.g. Hawk or a
// Transformer of a matched size). Unknown keys and arms are errors naming the file and
// the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace birdie::apps {

struct ExperimentConfig {
  std::filesystem::path source;
  std::filesystem::path output;
  std::filesystem::path run;
  std::vector<std::string> arms;
  std::map<std::string, std::filesystem::path> models;  // experiment.models: name → run file
  int seeds = 1;
  std::vector<std::string> overrides;

  std::string finetune_protocol = "small";
  int finetune_steps = 100, finetune_rows = 8;
  std::optional<double> finetune_lr;
  std::string finetune_entries, finetune_queries;  // "" = the protocol's
  bool split_names = true;
  int curve_every = 0;  // 0: phonebook_eval's default (a tenth of the steps)
  int curve_books = 16;

  std::vector<int> eval_entries{4, 8, 16}, eval_queries{1, 2, 4};
  int eval_books = 8;
  std::uint64_t eval_seed = 7;
};

ExperimentConfig load_experiment_config(const std::filesystem::path& path, const std::vector<std::string>& overrides);

// "birdie@hawk" → "birdie" (the built-in arm its mixture and layers come from).
std::string base_arm(const std::string& arm);
// The run configuration an arm starts from: experiment.run, or the model's for "arm@model".
std::filesystem::path arm_run_file(const ExperimentConfig& config, const std::string& arm);

// The built-in arms: name → pretrain overrides (the mixture and the bidirectional layers).
//   birdie         reward-driven mixture, bidirectional layers alternating
//   birdie-causal  the same mixture, every layer causal
//   ntp            next-token prediction, every layer causal
//   ul2            the fixed UL2 mixture, bidirectional layers alternating
//   uniform        every configuration of the grid equally likely, alternating
//   scratch        no pre-training (the initialized model), alternating
const std::vector<std::string>& known_arms();
std::vector<std::string> arm_overrides(const std::string& arm);
bool arm_is_pretrained(const std::string& arm);

}  // namespace birdie::apps
