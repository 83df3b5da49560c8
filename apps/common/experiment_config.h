// An experiment file (configs/experiments/*.toml): the arms to compare and the settings
// every arm shares, fixed before any run starts.
//
//   [experiment]
//   output = "runs/experiments/micro-cpu"     # one run folder per arm and seed inside
//   run = "configs/experiments/micro-cpu-run.toml"   # the pre-training run every arm starts from
//   arms = ["birdie", "birdie-causal", "ntp"]  # built-in arms (see built_in_arms()) or [arms.NAME]
//   models = { hawk = "configs/experiments/micro-cpu-hawk-run.toml" }  # optional: see below
//   seeds = 1                                  # pre-training seeds per arm: run.seed = 1..seeds
//   set = ["schedule.steps=400"]               # optional overrides for every arm
//
//   [arms.birdie-floor]   # optional: an arm of one's own, listed in experiment.arms like the others
//   mixture = "birdie"    # objectives.mixture: birdie, ntp, ul2, uniform or a weights file
//   bidirectional = "alternate"   # model.bidirectional: all, alternate (default) or none
//   set = ["objectives.class_floor=0.1"]   # overrides for this arm only (after experiment.set)
//
//   [finetune]      # phonebook_eval's fine-tuning (same books, budget, protocol for all)
//   protocol = "small"   steps = 150   rows = 8   lr = 1e-3   entries = "2,fit"
//   queries = "1,4"   split_names = true   curve_every = 25   curve_books = 16
//   curve_entries = [1]   curve_queries = [1]   # the curve's books (default: the evaluation's)
//   threshold = 0.5       # steps-to-threshold: the first curve step at this accuracy
//
//   [evaluation]    # held-out books (seeded apart from the fine-tuning books)
//   entries = [4, 8, 16]   queries = [1, 2, 4]   books = 8   seed = 7
//
// An arm trains the model of `run` unless its name ends in @MODEL ("birdie@hawk"): it then
// starts from experiment.models.MODEL, another whole run configuration (the same data,
// schedule and objectives, written by the user, with another [model], e.g. Hawk or a
// Transformer of a matched size); custom arms take @MODEL too. Unknown keys and arms are
// errors naming the file and the key. `--set section.key=value` (and
// `--set arms.NAME.key=value`) overrides the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace birdie::apps {

// How an arm pretrains: its mixture, its bidirectional layers and its own overrides.
struct ArmDefinition {
  std::string mixture;                      // objectives.mixture
  std::string bidirectional = "alternate";  // model.bidirectional
  std::vector<std::string> overrides;       // "section.key=value", after experiment.set
  bool pretrained = true;                   // false: the initialized model (pretrain --init-only)
};

struct ExperimentConfig {
  std::filesystem::path source;
  std::filesystem::path output;
  std::filesystem::path run;
  std::vector<std::string> arms;
  std::map<std::string, std::filesystem::path> models;  // experiment.models: name → run file
  std::map<std::string, ArmDefinition> custom_arms;     // [arms.NAME]
  int seeds = 1;
  std::vector<std::string> overrides;

  std::string finetune_protocol = "small";
  int finetune_steps = 100, finetune_rows = 8;
  std::optional<double> finetune_lr;
  std::string finetune_entries, finetune_queries;  // "" = the protocol's
  bool split_names = true;
  int curve_every = 0;  // 0: phonebook_eval's default (a tenth of the steps)
  int curve_books = 16;
  std::vector<int> curve_entries, curve_queries;  // the curve's books; empty: the evaluation's
  double threshold = 0.5;  // steps-to-threshold: held-out digit accuracy the curve must reach

  std::vector<int> eval_entries{4, 8, 16}, eval_queries{1, 2, 4};
  int eval_books = 8;
  std::uint64_t eval_seed = 7;
  // Validation samples per grid configuration for the arms' validation losses (more than a
  // run's own evaluations use: one configuration's loss is then steady enough to read).
  int eval_validation_samples = 8;
};

ExperimentConfig load_experiment_config(const std::filesystem::path& path, const std::vector<std::string>& overrides);

// "birdie@hawk" → "birdie" (the arm its mixture and layers come from).
std::string base_arm(const std::string& arm);
// The run configuration an arm starts from: experiment.run, or the model's for "arm@model".
std::filesystem::path arm_run_file(const ExperimentConfig& config, const std::string& arm);

// The built-in arms, in order (mixture, bidirectional layers):
//   birdie         reward-driven mixture, bidirectional layers alternating
//   birdie-causal  the same mixture, every layer causal
//   ntp            next-token prediction, every layer causal
//   ul2            the fixed UL2 mixture, bidirectional layers alternating
//   uniform        every configuration of the grid equally likely, alternating
//   scratch        no pre-training (the initialized model), alternating
const std::vector<std::pair<std::string, ArmDefinition>>& built_in_arms();
// A built-in or custom arm, with or without @MODEL; throws on an unknown one.
const ArmDefinition& arm_definition(const ExperimentConfig& config, const std::string& arm);
// The arm's own pretrain overrides: its mixture, its layers, then its `set`.
std::vector<std::string> arm_overrides(const ExperimentConfig& config, const std::string& arm);
// Everything pretrain gets for the arm: its mixture and layers, experiment.set, then the
// arm's own `set` (so an arm's setting wins over the experiment's).
std::vector<std::string> arm_pretrain_overrides(const ExperimentConfig& config, const std::string& arm);
bool arm_is_pretrained(const ExperimentConfig& config, const std::string& arm);

}  // namespace birdie::apps
