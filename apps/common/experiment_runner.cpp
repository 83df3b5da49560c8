#include "apps/common/experiment_runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include "apps/common/child_process.h"
#include "apps/common/experiment_pieces.h"
#include "apps/common/trained_model.h"
#include "engine/exit_codes.h"
#include "engine/folder_lock.h"
#include "objectives/objective_grid.h"
#include "training/duration_text.h"
#include "training/run_checks.h"
#include "training/run_config.h"
#include "training/run_policy.h"
#include "training/validation_losses.h"

namespace birdie::apps {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// Seconds each kind of step took, from the units' state files: the ETA's basis.
struct Durations {
  std::map<std::string, std::vector<double>> seen;
  double mean(const std::string& kind) const {
    const auto it = seen.find(kind);
    if (it == seen.end() || it->second.empty()) return NAN;
    double sum = 0;
    for (double s : it->second) sum += s;
    return sum / double(it->second.size());
  }
};

}  // namespace

Experiment::Experiment(ExperimentConfig config, ExperimentOptions options) : c_(std::move(config)), o_(std::move(options)) {
  for (const auto& arm : o_.arms)
    BIRDIE_CHECK(std::find(c_.arms.begin(), c_.arms.end(), arm) != c_.arms.end(), "--arms: '", arm,
                 "' is not an arm of ", c_.source.string(), " (experiment.arms)");
  for (int seed : o_.seeds)
    BIRDIE_CHECK(seed >= 1 && seed <= c_.seeds, "--seeds: ", seed, " is not a seed of ", c_.source.string(),
                 " (1 to experiment.seeds = ", c_.seeds, ")");
  for (int seed = 1; seed <= c_.seeds; ++seed)
    for (const auto& arm : c_.arms) {
      const bool chosen = (o_.arms.empty() || std::count(o_.arms.begin(), o_.arms.end(), arm)) &&
                          (o_.seeds.empty() || std::count(o_.seeds.begin(), o_.seeds.end(), seed));
      units_.push_back({arm, seed, c_.output / arm / ("seed-" + std::to_string(seed)), chosen});
    }
}

void Experiment::check() const {
  for (const auto& unit : units_)
    if (unit.chosen && !o_.report_only)
      training::check_run_against_grid(training::load_run_config(arm_run_file(c_, unit.arm), pretrain_overrides(unit)));
  for (const char* program : {"pretrain", "phonebook_eval"})
    BIRDIE_CHECK(fs::exists(executable_folder() / program), "experiment: ", program, " is not built beside ",
                 executable_folder().string(), ". Fix: bash scripts/build.sh");
}

std::vector<std::string> Experiment::pretrain_overrides(const ExperimentUnit& unit) const {
  std::vector<std::string> o = arm_pretrain_overrides(c_, unit.arm);
  o.push_back("run.output=\"" + unit.folder.string() + "\"");
  o.push_back("run.seed=" + std::to_string(unit.seed));
  return o;
}

template <class Work>
void Experiment::step(const ExperimentUnit& unit, ExperimentState& state, const std::string& kind, Work work) {
  if (state.count(kind)) {
    std::printf("[%s] %s: done before (%s), skipped\n", unit.name().c_str(), kind.c_str(),
                training::duration_text(state.at(kind)).c_str());
    return;
  }
  std::printf("[%s] %s ... (%s elapsed, %s)\n", unit.name().c_str(), kind.c_str(), training::duration_text(clock_.seconds()).c_str(),
              eta_text(unit, kind).c_str());
  std::fflush(stdout);
  Stopwatch watch;
  const int code = work();
  if (code == 130 || code == 128 + 2 || code == 128 + 15) {
    std::printf("experiment: interrupted during %s of %s; run the same command again to continue\n", kind.c_str(),
                unit.name().c_str());
    std::exit(130);
  }
  if (code == exit_io)
    throw IoError(unit.name() + ": " + kind + " could not write its files (exit code 4); its log ends with:\n" +
                  tail_lines(unit.folder / (kind + ".log"), 12));
  BIRDIE_CHECK(code == 0, unit.name(), ": ", kind, " failed with exit code ", code, "; its log ",
               (unit.folder / (kind + ".log")).string(), " ends with:\n",
               tail_lines(unit.folder / (kind + ".log"), 12));
  state[kind] = watch.seconds();
  write_experiment_state(unit.folder / "experiment_state.json", state);
}

std::string Experiment::eta_text(const ExperimentUnit& current, const std::string& kind) const {
  static const std::vector<std::string> kinds{"pretrain", "evaluate", "validation"};
  Durations d;
  std::vector<ExperimentState> states;
  for (const auto& unit : units_) {
    states.push_back(read_experiment_state(unit.folder / "experiment_state.json"));
    for (const auto& [k, seconds] : states.back())
      if (k != "pretrain" || arm_is_pretrained(c_, unit.arm)) d.seen[k].push_back(seconds);
  }
  double left = 0;
  bool reached = false;
  for (std::size_t u = 0; u < units_.size(); ++u)
    for (const auto& k : kinds) {
      reached = reached || (units_[u].folder == current.folder && k == kind);
      const bool applicable = units_[u].chosen && (k != "pretrain" || arm_is_pretrained(c_, units_[u].arm));
      if (!reached || !applicable || states[u].count(k)) continue;
      const double mean = d.mean(k);
      if (std::isnan(mean)) return "ETA after the first arm";
      left += mean;
    }
  return "ETA " + training::duration_text(left);
}

int Experiment::run_program(const ExperimentUnit& unit, const std::string& program, const std::string& kind,
                const std::vector<std::string>& arguments) {
  const fs::path log = unit.folder / (kind + ".log");
  return run_logged(executable_folder() / program, arguments, log, [&](const std::string& last) {
    std::printf("[%s] %s, %s elapsed: %s\n", unit.name().c_str(), kind.c_str(), training::duration_text(clock_.seconds()).c_str(),
                last.c_str());
    std::fflush(stdout);
  });
}

int Experiment::pretrain(const ExperimentUnit& unit) {
  std::vector<std::string> arguments{"--config", arm_run_file(c_, unit.arm).string(), "--resume"};
  for (const auto& o : pretrain_overrides(unit)) arguments.insert(arguments.end(), {"--set", o});
  if (!arm_is_pretrained(c_, unit.arm)) arguments.push_back("--init-only");
  return run_program(unit, "pretrain", "pretrain", arguments);
}

int Experiment::evaluate(const ExperimentUnit& unit) {
  auto list = [](const std::vector<int>& values) {
    std::string out;
    for (int v : values) {
      if (!out.empty()) out += ',';
      out += std::to_string(v);
    }
    return out;
  };
  const fs::path json = unit.folder / "phonebook.json";
  std::vector<std::string> arguments{"--checkpoint", unit.folder.string(), "--entries", list(c_.eval_entries),
                                     "--queries", list(c_.eval_queries), "--books", std::to_string(c_.eval_books),
                                     "--seed", std::to_string(c_.eval_seed), "--protocol", c_.finetune_protocol,
                                     "--finetune-steps", std::to_string(c_.finetune_steps), "--finetune-rows",
                                     std::to_string(c_.finetune_rows), "--curve-books",
                                     std::to_string(c_.curve_books), "--json", json.string()};
  if (c_.finetune_lr) arguments.insert(arguments.end(), {"--finetune-lr", std::to_string(*c_.finetune_lr)});
  if (!c_.finetune_entries.empty()) arguments.insert(arguments.end(), {"--finetune-entries", c_.finetune_entries});
  if (!c_.finetune_queries.empty()) arguments.insert(arguments.end(), {"--finetune-queries", c_.finetune_queries});
  if (c_.curve_every > 0) arguments.insert(arguments.end(), {"--curve-every", std::to_string(c_.curve_every)});
  if (!c_.curve_entries.empty()) arguments.insert(arguments.end(), {"--curve-entries", list(c_.curve_entries)});
  if (!c_.curve_queries.empty()) arguments.insert(arguments.end(), {"--curve-queries", list(c_.curve_queries)});
  if (c_.split_names) arguments.push_back("--split-names");
  const training::RunConfig run = training::load_run_config(unit.folder / "config.toml", {});
  arguments.insert(arguments.end(), {"--device", run.device});
  return run_program(unit, "phonebook_eval", "evaluate", arguments);
}

Json Experiment::class_validation(const ExperimentUnit& unit) const {
  const training::RunConfig run = training::load_run_config(unit.folder / "config.toml", {});
  TrainedModel trained = load_trained_model(unit.folder, std::nullopt, parse_device(run.device), "auto");
  const objectives::ObjectiveGrid grid = objectives::load_objective_grid(run.grid);
  const auto sets = training::run_validation_sets(run, grid.configs, c_.eval_validation_samples, c_.eval_seed);
  const std::vector<double> losses = training::validation_losses(*trained.lm, sets, int(run.rows));
  std::map<std::string, std::pair<double, int>> by_class;
  Json out = Json::object(), configurations = Json::object();
  for (std::size_t i = 0; i < grid.configs.size(); ++i) {
    if (!std::isfinite(losses[i])) continue;
    auto& cell = by_class[std::string(objectives::class_name(grid.configs[i].objective_class()))];
    cell.first += losses[i];
    cell.second += 1;
    configurations[std::string(objectives::class_name(grid.configs[i].objective_class()))][grid.configs[i].name] =
        losses[i];
  }
  for (const auto& [name, cell] : by_class) out[name] = cell.first / cell.second;
  out[configurations_key] = configurations;
  return out;
}

void Experiment::run() {
  // The whole experiment owns its output folder. Pieces of it (--arms, --seeds) may run at
  // once into one folder (gpu_check's experiment stage runs an arm a process): each
  // unit's pretrain then locks the unit's own folder.
  const bool piece = !o_.arms.empty() || !o_.seeds.empty();
  const FolderLock lock = piece ? FolderLock() : FolderLock(c_.output, "experiment");
  fs::create_directories(c_.output);
  const std::size_t chosen = std::size_t(std::count_if(units_.begin(), units_.end(), [](const ExperimentUnit& u) { return u.chosen; }));
  std::printf("experiment %s: %zu arms x %d seeds -> %s\n", c_.source.string().c_str(), c_.arms.size(), c_.seeds,
              c_.output.string().c_str());
  if (chosen < units_.size()) std::printf("this piece: %zu of the %zu arm-seed units\n", chosen, units_.size());
  const PieceStamp stamp = current_piece_stamp(c_, o_.overrides);
  std::printf("experiment %s, data %s, code %s (%s)\n", stamp.experiment.c_str(), stamp.data.c_str(),
              stamp.code.c_str(), stamp.commit.c_str());
  for (const auto& unit : units_) {
    if (!unit.chosen) continue;
    fs::create_directories(unit.folder);
    // A unit is finished by what started it: its stamp, written before its first step.
    if (const auto started = read_piece_stamp(unit.folder)) {
      const std::string difference = piece_difference(*started, stamp, o_.accept_other_code);
      BIRDIE_CHECK(difference.empty(), unit.name(), " in ", unit.folder.string(), " was started by another ",
                   "experiment, data or code (", difference, "). Fix: run it with what started it, delete the "
                   "folder to run it again, or pass --accept-other-code if only the code changed");
    } else {
      write_piece_stamp(unit.folder, stamp);
    }
    ExperimentState state = read_experiment_state(unit.folder / "experiment_state.json");
    step(unit, state, "pretrain", [&] { return pretrain(unit); });
    step(unit, state, "evaluate", [&] { return evaluate(unit); });
    step(unit, state, "validation", [&] {
      write_json(unit.folder / "validation.json", class_validation(unit));
      return 0;
    });
    if (o_.drop_checkpoints && fs::exists(unit.folder / "checkpoints")) {
      fs::remove_all(unit.folder / "checkpoints");
      std::printf("[%s] done; checkpoints deleted (--drop-checkpoints)\n", unit.name().c_str());
    }
  }
}

}  // namespace birdie::apps
