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
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "apps/common/child_process.h"
#include "apps/common/experiment_config.h"
#include "apps/common/experiment_pieces.h"
#include "apps/common/experiment_state.h"
#include "apps/common/jsonl_log.h"
#include "apps/common/learning_curve.h"
#include "apps/common/run_checks.h"
#include "apps/common/run_config.h"
#include "apps/common/run_logs.h"
#include "apps/common/svg_plot.h"
#include "apps/common/trained_model.h"
#include "apps/common/validation_losses.h"
#include "data/token_shard.h"
#include "engine/exit_codes.h"
#include "engine/folder_lock.h"
#include "engine/timer.h"
#include "model/safetensors.h"
#include "objectives/objective_grid.h"
#include "objectives/validation_set.h"

using namespace birdie;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// validation.json: the loss per objective class, and per configuration under this key.
constexpr const char* configurations_key = "configurations";
// The classes whose configurations the report lists one by one: what teaches retrieval.
const std::set<std::string> retrieval_classes{"copying", "selective_copying", "deshuffling"};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "experiment: %s\n"
               "usage: experiment --config FILE [--set section.key=value ...] [--arms A,B,...] [--seeds S,...]\n"
               "                  [--drop-checkpoints] [--report-only] [--from DIR ...] [--accept-other-code]\n"
               "  e.g. experiment --config configs/experiments/micro-cpu.toml\n"
               "  --arms, --seeds       run only these arm-seed units (a piece of the experiment, for one job)\n"
               "  --drop-checkpoints    delete a unit's checkpoints once it is done (its results stay)\n"
               "  --from DIR            report also the units found in DIR (another piece's experiment.output)\n"
               "  --accept-other-code   merge units that other code versions made (listed in the report)\n",
               problem.c_str());
  std::exit(2);
}

struct Unit {  // one arm, one pre-training seed
  std::string arm;
  int seed = 1;
  fs::path folder;
  bool chosen = true;  // run by this invocation (--arms, --seeds)
  std::string name() const { return arm + " seed " + std::to_string(seed); }
  fs::path relative() const { return fs::path(arm) / ("seed-" + std::to_string(seed)); }
};

std::string clock_text(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buffer;
}

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Json::object();
  Json j = Json::parse(in, nullptr, false);
  BIRDIE_CHECK(!j.is_discarded(), path.string(), " is not valid JSON. Fix: delete it and run the experiment again");
  return j;
}

void write_json(const fs::path& path, const Json& j) { model::write_file_atomically(path, j.dump(2) + "\n"); }

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

// What one invocation does with the experiment: which units it runs, where else the
// report looks for finished ones.
struct Options {
  std::vector<std::string> overrides;
  std::vector<std::string> arms;  // empty: every arm
  std::vector<int> seeds;         // empty: every seed
  std::vector<fs::path> from;     // other pieces' output folders, for the report
  bool report_only = false, drop_checkpoints = false, accept_other_code = false;
};

class Experiment {
 public:
  Experiment(apps::ExperimentConfig config, Options options) : c_(std::move(config)), o_(std::move(options)) {
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

  // Every arm's run configuration is read before anything runs: a bad key fails now.
  void check() const {
    for (const auto& unit : units_)
      if (unit.chosen && !o_.report_only)
        apps::check_run_against_grid(apps::load_run_config(apps::arm_run_file(c_, unit.arm), pretrain_overrides(unit)));
    for (const char* program : {"pretrain", "phonebook_eval"})
      BIRDIE_CHECK(fs::exists(apps::executable_folder() / program), "experiment: ", program, " is not built beside ",
                   apps::executable_folder().string(), ". Fix: bash scripts/build.sh");
  }

  void run() {
    // The whole experiment owns its output folder. Pieces of it (--arms, --seeds) may run at
    // once into one folder (gpu_check's experiment stage runs an arm a process): each
    // unit's pretrain then locks the unit's own folder.
    const bool piece = !o_.arms.empty() || !o_.seeds.empty();
    const FolderLock lock = piece ? FolderLock() : FolderLock(c_.output, "experiment");
    fs::create_directories(c_.output);
    const std::size_t chosen = std::size_t(std::count_if(units_.begin(), units_.end(), [](const Unit& u) { return u.chosen; }));
    std::printf("experiment %s: %zu arms x %d seeds -> %s\n", c_.source.string().c_str(), c_.arms.size(), c_.seeds,
                c_.output.string().c_str());
    if (chosen < units_.size()) std::printf("this piece: %zu of the %zu arm-seed units\n", chosen, units_.size());
    const apps::PieceStamp stamp = apps::current_piece_stamp(c_, o_.overrides);
    std::printf("experiment %s, data %s, code %s (%s)\n", stamp.experiment.c_str(), stamp.data.c_str(),
                stamp.code.c_str(), stamp.commit.c_str());
    for (const auto& unit : units_) {
      if (!unit.chosen) continue;
      fs::create_directories(unit.folder);
      // A unit is finished by what started it: its stamp, written before its first step.
      if (const auto started = apps::read_piece_stamp(unit.folder)) {
        const std::string difference = apps::piece_difference(*started, stamp, o_.accept_other_code);
        BIRDIE_CHECK(difference.empty(), unit.name(), " in ", unit.folder.string(), " was started by another ",
                     "experiment, data or code (", difference, "). Fix: run it with what started it, delete the "
                     "folder to run it again, or pass --accept-other-code if only the code changed");
      } else {
        apps::write_piece_stamp(unit.folder, stamp);
      }
      apps::ExperimentState state = apps::read_experiment_state(unit.folder / "experiment_state.json");
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

  void report() const;

 private:
  std::vector<std::string> pretrain_overrides(const Unit& unit) const {
    std::vector<std::string> o = apps::arm_pretrain_overrides(c_, unit.arm);
    o.push_back("run.output=\"" + unit.folder.string() + "\"");
    o.push_back("run.seed=" + std::to_string(unit.seed));
    return o;
  }

  // Runs one step of a unit unless its state file says it is done; records its duration.
  template <class Work>
  void step(const Unit& unit, apps::ExperimentState& state, const std::string& kind, Work work) {
    if (state.count(kind)) {
      std::printf("[%s] %s: done before (%s), skipped\n", unit.name().c_str(), kind.c_str(),
                  clock_text(state.at(kind)).c_str());
      return;
    }
    std::printf("[%s] %s ... (%s elapsed, %s)\n", unit.name().c_str(), kind.c_str(), clock_text(clock_.seconds()).c_str(),
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
                    apps::tail_lines(unit.folder / (kind + ".log"), 12));
    BIRDIE_CHECK(code == 0, unit.name(), ": ", kind, " failed with exit code ", code, "; its log ",
                 (unit.folder / (kind + ".log")).string(), " ends with:\n",
                 apps::tail_lines(unit.folder / (kind + ".log"), 12));
    state[kind] = watch.seconds();
    apps::write_experiment_state(unit.folder / "experiment_state.json", state);
  }

  // Remaining time: every step not yet done, from the current one on, at the mean duration
  // of the finished steps of its kind.
  std::string eta_text(const Unit& current, const std::string& kind) const {
    static const std::vector<std::string> kinds{"pretrain", "evaluate", "validation"};
    Durations d;
    std::vector<apps::ExperimentState> states;
    for (const auto& unit : units_) {
      states.push_back(apps::read_experiment_state(unit.folder / "experiment_state.json"));
      for (const auto& [k, seconds] : states.back())
        if (k != "pretrain" || apps::arm_is_pretrained(c_, unit.arm)) d.seen[k].push_back(seconds);
    }
    double left = 0;
    bool reached = false;
    for (std::size_t u = 0; u < units_.size(); ++u)
      for (const auto& k : kinds) {
        reached = reached || (units_[u].folder == current.folder && k == kind);
        const bool applicable = units_[u].chosen && (k != "pretrain" || apps::arm_is_pretrained(c_, units_[u].arm));
        if (!reached || !applicable || states[u].count(k)) continue;
        const double mean = d.mean(k);
        if (std::isnan(mean)) return "ETA after the first arm";
        left += mean;
      }
    return "ETA " + clock_text(left);
  }

  int run_program(const Unit& unit, const std::string& program, const std::string& kind,
                  const std::vector<std::string>& arguments) {
    const fs::path log = unit.folder / (kind + ".log");
    return apps::run_logged(apps::executable_folder() / program, arguments, log, [&](const std::string& last) {
      std::printf("[%s] %s, %s elapsed: %s\n", unit.name().c_str(), kind.c_str(), clock_text(clock_.seconds()).c_str(),
                  last.c_str());
      std::fflush(stdout);
    });
  }

  int pretrain(const Unit& unit) {
    std::vector<std::string> arguments{"--config", apps::arm_run_file(c_, unit.arm).string(), "--resume"};
    for (const auto& o : pretrain_overrides(unit)) arguments.insert(arguments.end(), {"--set", o});
    if (!apps::arm_is_pretrained(c_, unit.arm)) arguments.push_back("--init-only");
    return run_program(unit, "pretrain", "pretrain", arguments);
  }

  int evaluate(const Unit& unit) {
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
    const apps::RunConfig run = apps::load_run_config(unit.folder / "config.toml", {});
    arguments.insert(arguments.end(), {"--device", run.device});
    return run_program(unit, "phonebook_eval", "evaluate", arguments);
  }

  // Validation loss per objective class (the mean over its configurations) and per
  // configuration (under "configurations", by class) over the whole grid, on evaluation.
  // validation_samples samples per configuration drawn with the evaluation seed: the same
  // samples for every arm, whatever its mixture.
  Json class_validation(const Unit& unit) const {
    const apps::RunConfig run = apps::load_run_config(unit.folder / "config.toml", {});
    apps::TrainedModel trained = apps::load_trained_model(unit.folder, std::nullopt, parse_device(run.device), "auto");
    const objectives::ObjectiveGrid grid = objectives::load_objective_grid(run.grid);
    const data::ShardTokenSource text = data::open_split(run.data, "validation", static_cast<int>(run.model.vocab));
    const auto sets = objectives::build_validation_sets(text, grid.configs, run.sequence_length, run.min_pack_tokens,
                                                        c_.eval_validation_samples, c_.eval_seed);
    const std::vector<double> losses = apps::validation_losses(*trained.lm, sets, int(run.rows));
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

  // The folder holding each unit's finished results: the output folder's own, else the
  // first --from folder that has it finished; every one made by the same experiment, data
  // and code as the first (units found nowhere are left out of the report).
  std::vector<Unit> finished_units(apps::PieceStamp& reference, std::set<std::string>& code_versions) const;

  apps::ExperimentConfig c_;
  Options o_;
  std::vector<Unit> units_;
  Stopwatch clock_;
};

std::vector<Unit> Experiment::finished_units(apps::PieceStamp& reference, std::set<std::string>& code_versions) const {
  std::vector<fs::path> roots{c_.output};
  roots.insert(roots.end(), o_.from.begin(), o_.from.end());
  for (const fs::path& root : o_.from)
    BIRDIE_CHECK(fs::is_directory(root), "--from ", root.string(), ": no such folder");
  std::vector<Unit> found;
  std::optional<apps::PieceStamp> first;
  std::string first_name;
  bool unstamped = false;
  for (const Unit& unit : units_) {
    for (const fs::path& root : roots) {
      Unit located = unit;
      located.folder = root / unit.relative();
      if (!apps::read_experiment_state(located.folder / "experiment_state.json").count("validation")) continue;
      const std::optional<apps::PieceStamp> stamp = apps::read_piece_stamp(located.folder);
      const std::string name = unit.name() + " in " + located.folder.string();
      // Units made before pieces were stamped merge only among themselves.
      if (!stamp || (found.size() > 0 && unstamped)) {
        BIRDIE_CHECK(!stamp && (found.empty() || unstamped), name, (stamp ? " has" : " has no"),
                     " piece.json where ", first_name, (stamp ? " has none" : " has one"),
                     ": the pieces were made by different versions of the experiment program; run them again with one");
        unstamped = true;
      } else if (!first) {
        first = *stamp;
      } else {
        const std::string difference = apps::piece_difference(*first, *stamp, o_.accept_other_code);
        BIRDIE_CHECK(difference.empty(), "cannot merge ", name, " with ", first_name, ": made by another ",
                     "experiment, data or code (", difference, "). Fix: run that unit again with the others' "
                     "experiment file, data and code", o_.accept_other_code ? "" : ", or pass --accept-other-code "
                     "if only the code changed and the change cannot alter results");
      }
      if (first_name.empty()) first_name = name;
      if (stamp) code_versions.insert(stamp->code + " (" + stamp->commit + ")");
      found.push_back(located);
      break;
    }
  }
  if (first) reference = *first;
  return found;
}

struct Spread {
  std::vector<double> values;
  double mean() const {
    double s = 0;
    for (double v : values) s += v;
    return values.empty() ? NAN : s / double(values.size());
  }
  double min() const { return values.empty() ? NAN : *std::min_element(values.begin(), values.end()); }
  double max() const { return values.empty() ? NAN : *std::max_element(values.begin(), values.end()); }
  Json json() const { return {{"mean", mean()}, {"min", min()}, {"max", max()}, {"seeds", values.size()}}; }
  std::string text() const {
    char buffer[64];
    if (values.size() <= 1) std::snprintf(buffer, sizeof buffer, "%.3f", mean());
    else std::snprintf(buffer, sizeof buffer, "%.3f (%.3f-%.3f)", mean(), min(), max());
    return buffer;
  }
};

// "16 held-out books of 1 entry and 1 query, a point every 50 of 600 fine-tuning steps",
// from a unit's phonebook.json "finetune" record.
std::string curve_description(const Json& finetune) {
  const auto values = [&](const char* key, const char* one, const char* many) {
    if (!finetune.contains(key) || !finetune[key].is_array() || finetune[key].empty()) return std::string();
    std::string out;
    for (const auto& v : finetune[key]) out += (out.empty() ? "" : ", ") + std::to_string(v.get<int>());
    return out + " " + (finetune[key].size() == 1 && finetune[key][0].get<int>() == 1 ? one : many);
  };
  const std::string entries = values("curve_entries", "entry", "entries"),
                    queries = values("curve_queries", "query", "queries");
  std::string text = std::to_string(finetune.value("curve_books", 0)) + " held-out books";
  text += entries.empty() ? std::string(" of the evaluation's sizes") : " of " + entries + " and " + queries;
  const Json& curve = finetune["curve"];
  if (curve.is_array() && curve.size() >= 2)
    text += ", a point every " + std::to_string(curve[1]["step"].get<int>() - curve[0]["step"].get<int>()) + " of " +
            std::to_string(finetune.value("steps", 0)) + " fine-tuning steps";
  return text;
}

void Experiment::report() const {
  using Cell = std::pair<int, int>;  // (entries, queries)
  std::map<std::string, std::map<Cell, Spread>> accuracy;
  std::map<std::string, Spread> overall;
  std::map<std::string, std::map<int, Spread>> curves;  // fine-tune step → held-out accuracy
  std::map<std::string, apps::ThresholdSteps> threshold_steps;  // per seed
  std::map<std::string, Spread> curve_end;                      // the curve's last accuracy
  Json curve_record;  // the first unit's fine-tuning record: how the curve is measured
  std::map<std::string, std::map<std::string, Spread>> validation;
  std::map<std::string, std::map<std::string, Spread>> configuration_validation;  // retrieval configurations
  std::set<std::string> retrieval_configurations;
  std::map<std::string, std::map<std::string, Spread>> mixture;  // the mean over a run's evaluations
  std::map<std::string, Json> budget;
  std::set<Cell> cells;
  std::set<std::string> classes;
  int complete = 0;
  apps::PieceStamp stamp;
  std::set<std::string> code_versions;
  for (const auto& unit : finished_units(stamp, code_versions)) {
    const apps::ExperimentState state = apps::read_experiment_state(unit.folder / "experiment_state.json");
    ++complete;
    // phonebook.json and validation.json were written by this experiment's steps; one
    // that does not read names itself and the fix.
    const auto reading = [&](const fs::path& file, const auto& read) {
      try {
        read(read_json(file));
      } catch (const nlohmann::json::exception& e) {
        throw Error(detail::concat(file.string(), ": not as written by the experiment (", e.what(), "). Fix: delete ",
                                   (unit.folder / "experiment_state.json").string(), " to run this unit again"));
      }
    };
    reading(unit.folder / "phonebook.json", [&](const Json& phonebook) {
      for (const auto& row : phonebook.at("table")) {
        const Cell cell{row.at("entries").get<int>(), row.at("queries").get<int>()};
        cells.insert(cell);
        accuracy[unit.arm][cell].values.push_back(row.at("accuracy").get<double>());
      }
      overall[unit.arm].values.push_back(phonebook.at("accuracy").get<double>());
      if (!phonebook.contains("finetune") || !phonebook.at("finetune").is_object()) return;
      std::vector<apps::CurvePoint> curve;
      for (const auto& point : phonebook.at("finetune").at("curve")) {
        curves[unit.arm][point.at("step").get<int>()].values.push_back(point.at("accuracy").get<double>());
        curve.push_back({point.at("step").get<int>(), 0.0, point.at("accuracy").get<double>()});
      }
      if (curve.empty()) return;
      threshold_steps[unit.arm].seeds.emplace_back(unit.seed, apps::steps_to_threshold(curve, c_.threshold));
      curve_end[unit.arm].values.push_back(curve.back().accuracy);
      if (curve_record.is_null()) curve_record = phonebook.at("finetune");
    });
    reading(unit.folder / "validation.json", [&](const Json& losses) {
      for (const auto& [name, loss] : losses.items()) {
        if (name == configurations_key) continue;
        classes.insert(name);
        validation[unit.arm][name].values.push_back(loss.get<double>());
      }
      if (!losses.contains(configurations_key)) return;
      for (const auto& [class_name, configurations] : losses.at(configurations_key).items())
        if (retrieval_classes.count(class_name))
          for (const auto& [name, loss] : configurations.items()) {
            retrieval_configurations.insert(name);
            configuration_validation[unit.arm][name].values.push_back(loss.get<double>());
          }
    });
    std::int64_t evaluations = 0;
    if (apps::arm_is_pretrained(c_, unit.arm)) {
      std::map<std::string, Spread> over_run;
      apps::for_each_log_line(unit.folder / "evaluations.jsonl", INT64_MAX,
                              [&](const std::string& line, const std::string& where) {
                                ++evaluations;
                                for (const auto& [name, p] : apps::parse_evaluation_line(line, where).mixture_by_class)
                                  over_run[name].values.push_back(p);
                              });
      for (const auto& [name, spread] : over_run) mixture[unit.arm][name].values.push_back(spread.mean());
    }
    const apps::RunConfig run = apps::load_run_config(unit.folder / "config.toml", {});
    Json& b = budget[unit.arm];
    const double tokens =
        apps::arm_is_pretrained(c_, unit.arm) ? double(run.tokens_per_step()) * double(run.steps) : 0.0;
    b["pretrain_tokens"] = tokens;
    b["parameters"] = run.model.parameter_count();
    const auto seconds = [&](const char* kind) { return state.count(kind) ? state.at(kind) : 0.0; };
    b["pretrain_seconds"] = b.value("pretrain_seconds", 0.0) + seconds("pretrain");
    b["evaluate_seconds"] = b.value("evaluate_seconds", 0.0) + seconds("evaluate");
    b["evaluations"] = b.value("evaluations", std::int64_t(0)) + evaluations;  // over the seeds
    b["seeds"] = b.value("seeds", 0) + 1;
  }
  if (complete == 0) {
    std::printf("experiment: no arm has finished yet; nothing to report\n");
    return;
  }

  // results.json (the output folder may be new: a report of other pieces)
  fs::create_directories(c_.output);
  Json arms = Json::object();
  for (const auto& arm : c_.arms) {
    if (!overall.count(arm)) continue;
    Json table = Json::array();
    for (const auto& [cell, spread] : accuracy.at(arm))
      table.push_back({{"entries", cell.first}, {"queries", cell.second}, {"accuracy", spread.json()}});
    Json curve = Json::array();
    for (const auto& [step, spread] : curves[arm]) curve.push_back({{"step", step}, {"accuracy", spread.json()}});
    Json losses = Json::object(), classes_mixture = Json::object();
    for (const auto& [name, spread] : validation[arm]) losses[name] = spread.json();
    Json configuration_losses = Json::object();
    for (const auto& [name, spread] : configuration_validation[arm]) configuration_losses[name] = spread.json();
    if (mixture.count(arm))
      for (const auto& [name, spread] : mixture.at(arm)) classes_mixture[name] = spread.json();
    const auto steps = threshold_steps.find(arm);
    arms[arm] = {{"overrides", apps::arm_overrides(c_, arm)},
                 {"accuracy", overall.at(arm).json()},
                 {"table", table},
                 {"finetune_curve", curve},
                 {"steps_to_threshold", steps == threshold_steps.end() ? Json() : steps->second.json()},
                 {"validation_by_class", losses},
                 {"validation_of_retrieval_configurations", configuration_losses},
                 {"mixture_by_class", classes_mixture},
                 {"budget", budget.at(arm)}};
  }
  Json threshold = {{"threshold", c_.threshold},
                    {"curve", curve_record.is_null() ? Json() : Json(curve_description(curve_record))}};
  for (const char* key : {"curve_books", "curve_entries", "curve_queries", "steps"})
    if (curve_record.is_object() && curve_record.contains(key)) threshold[key] = curve_record[key];
  threshold["not_reached"] = "step null: the curve never reached the threshold; mean, min and max are null unless "
                             "every seed reached it";
  write_json(c_.output / "results.json",
             {{"config", c_.source.string()}, {"run", c_.run.string()}, {"seeds", c_.seeds}, {"complete_units", complete},
              {"units", units_.size()},
              {"made_by", {{"experiment", stamp.experiment}, {"data", stamp.data}, {"code", code_versions}}},
              {"steps_to_threshold", threshold}, {"arms", arms}});

  // results.md
  std::ofstream md(c_.output / "results.md");
  md << "# Experiment " << c_.source.string() << "\n\n"
     << complete << " of " << units_.size() << " arm-seed runs complete; pre-training from `" << c_.run.string()
     << "`, " << c_.seeds << " seed(s) per arm (mean, and min-max over seeds where there are several).\n\n";
  if (!stamp.experiment.empty()) {
    md << "Made by experiment " << stamp.experiment << ", data " << stamp.data << ", code";
    for (const auto& version : code_versions) md << " " << version;
    md << " (`piece.json` in each arm-seed folder).\n\n";
  }
  md
     << "## Phone-book digit accuracy after fine-tuning (random guessing: 0.10)\n\n| arm | all |";
  for (const auto& cell : cells) md << " " << cell.first << " entries, " << cell.second << " q |";
  md << "\n|---|---|";
  for (std::size_t i = 0; i < cells.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& arm : c_.arms) {
    if (!overall.count(arm)) continue;
    md << "| " << arm << " | " << overall.at(arm).text() << " |";
    for (const auto& cell : cells) {
      const auto it = accuracy.at(arm).find(cell);
      md << " " << (it == accuracy.at(arm).end() ? "-" : it->second.text()) << " |";
    }
    md << "\n";
  }
  if (!threshold_steps.empty()) {
    char level[32];
    std::snprintf(level, sizeof level, "%.2f", c_.threshold);
    md << "\n## Fine-tuning steps to " << level << " held-out digit accuracy\n\n"
       << "The first fine-tuning step at which the held-out learning curve (" << curve_description(curve_record)
       << ") reaches " << level << " digit accuracy (`finetune.threshold`); \"not reached\": never within the "
       << "fine-tuning steps. Over several seeds: the mean (min-max) when every seed reached it, otherwise how many "
          "did not (a seed that never reached it is only bounded from below, so no mean is given).\n\n"
       << "| arm | steps to " << level << " | each seed | curve accuracy at the end |\n|---|---|---|---|\n";
    for (const auto& arm : c_.arms) {
      const auto it = threshold_steps.find(arm);
      if (it == threshold_steps.end()) continue;
      md << "| " << arm << " | " << it->second.text() << " | " << it->second.seeds_text() << " | "
         << curve_end.at(arm).text() << " |\n";
    }
  }
  // One row per arm, one column per name (objective class or configuration).
  auto class_table = [&](const std::string& title, const std::set<std::string>& columns,
                         const std::map<std::string, std::map<std::string, Spread>>& values, const char* missing) {
    md << "\n## " << title << "\n\n| arm |";
    for (const auto& name : columns) md << " " << name << " |";
    md << "\n|---|";
    for (std::size_t i = 0; i < columns.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& arm : c_.arms) {
      if (!values.count(arm)) continue;
      md << "| " << arm << " |";
      for (const auto& name : columns) {
        const auto it = values.at(arm).find(name);
        md << " " << (it == values.at(arm).end() ? missing : it->second.text()) << " |";
      }
      md << "\n";
    }
  };
  class_table("Validation loss by objective class (the mean over its configurations, the whole grid, the same "
              "samples for every arm)",
              classes, validation, "-");
  if (!retrieval_configurations.empty())
    class_table("Validation loss of each retrieval configuration (a class mean hides a span length that is "
                "learned beside longer ones that are not; a configuration's lengths count prompt and label)",
                retrieval_configurations, configuration_validation, "-");
  class_table("Pre-training mixture by objective class (the mean over the run's evaluations)", classes, mixture, "0");
  // Birdie's own cost: an arm's pre-training time beside that of ntp on the same model (the
  // same rows and steps, no critic, one validation set).
  md << "\n## Budget\n\nTimes are summed over the seeds; \"/ ntp\": the pre-training time over that of the ntp arm "
        "on the same model; evaluations per seed during pre-training (objectives.evaluation_budget).\n\n| arm | "
        "parameters | pre-training tokens per seed | evaluations | pre-training time | / ntp | fine-tune + evaluation "
        "time |\n|---|---|---|---|---|---|---|\n";
  for (const auto& arm : c_.arms) {
    if (!budget.count(arm)) continue;
    const Json& b = budget.at(arm);
    const std::string model = arm.find('@') == std::string::npos ? "" : arm.substr(arm.find('@'));
    const auto ntp = budget.find("ntp" + model);
    std::string ratio = "-";
    if (ntp != budget.end() && ntp->second["pretrain_seconds"].get<double>() > 0 && apps::arm_is_pretrained(c_, arm)) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2fx", (b["pretrain_seconds"].get<double>() / b["seeds"].get<double>()) /
                                                     (ntp->second["pretrain_seconds"].get<double>() /
                                                      ntp->second["seeds"].get<double>()));
      ratio = buffer;
    }
    md << "| " << arm << " | " << b["parameters"].get<std::int64_t>() << " | "
       << static_cast<std::int64_t>(b["pretrain_tokens"].get<double>()) << " | "
       << b["evaluations"].get<std::int64_t>() / b["seeds"].get<std::int64_t>() << " | "
       << clock_text(b["pretrain_seconds"].get<double>()) << " | " << ratio << " | "
       << clock_text(b["evaluate_seconds"].get<double>()) << " |\n";
  }
  md << "\nPlots: `accuracy.svg` (accuracy against the number of queries), `finetune.svg` (held-out accuracy "
        "during fine-tuning, the threshold dashed, a dot where each seed reaches it).\n";
  md.close();

  // accuracy.svg: one chart per book size; finetune.svg: the learning curves.
  std::vector<apps::Chart> charts;
  std::set<int> sizes;
  for (const auto& cell : cells) sizes.insert(cell.first);
  for (int size : sizes) {
    apps::Chart chart{"Digit accuracy, books of " + std::to_string(size) + " entries", "numbers asked (queries)",
                      "digit accuracy", {}};
    chart.y_range = {{0.0, 1.0}};
    for (const auto& arm : c_.arms) {
      if (!accuracy.count(arm)) continue;
      apps::PlotSeries series{arm, {}};
      for (const auto& [cell, spread] : accuracy.at(arm))
        if (cell.first == size) series.points.emplace_back(cell.second, spread.mean());
      if (!series.points.empty()) chart.series.push_back(series);
    }
    charts.push_back(chart);
  }
  apps::write_svg_charts(c_.output / "accuracy.svg", charts);
  // The threshold as a dashed line; a dot where each seed of an arm first reaches it.
  apps::Chart finetune{"Held-out digit accuracy during fine-tuning", "fine-tune step", "digit accuracy", {}};
  finetune.y_range = {{0.0, 1.0}};
  char threshold_label[48];
  std::snprintf(threshold_label, sizeof threshold_label, "threshold %.2f", c_.threshold);
  finetune.lines.push_back({c_.threshold, threshold_label});
  for (const auto& arm : c_.arms) {
    if (!curves.count(arm)) continue;
    apps::PlotSeries series{arm, {}};
    for (const auto& [step, spread] : curves.at(arm)) series.points.emplace_back(step, spread.mean());
    if (threshold_steps.count(arm))
      for (const auto& [seed, step] : threshold_steps.at(arm).seeds)
        if (step) series.markers.emplace_back(*step, c_.threshold);
    finetune.series.push_back(series);
  }
  apps::write_svg_charts(c_.output / "finetune.svg", {finetune});

  std::printf("\n");
  std::fflush(stdout);
  std::ifstream shown(c_.output / "results.md");
  std::string line;
  while (std::getline(shown, line)) std::printf("%s\n", line.c_str());
  std::printf("\nresults: %s, %s, %s, %s\n", (c_.output / "results.md").string().c_str(),
              (c_.output / "results.json").string().c_str(), (c_.output / "accuracy.svg").string().c_str(),
              (c_.output / "finetune.svg").string().c_str());
}

}  // namespace

// "a,b,c" → {"a", "b", "c"}; an empty item is an error naming the flag.
std::vector<std::string> split_list(const std::string& flag, const std::string& value) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = value.find(',', begin);
    items.push_back(value.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (items.back().empty()) usage(flag + " needs a comma-separated list without empty items, got '" + value + "'");
    if (end == std::string::npos) return items;
    begin = end + 1;
  }
}

int main(int argc, char** argv) {
  fs::path config;
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") usage("the Birdie comparison: pretrain, fine-tune and evaluate every arm");
    else if (arg == "--report-only") options.report_only = true;
    else if (arg == "--drop-checkpoints") options.drop_checkpoints = true;
    else if (arg == "--accept-other-code") options.accept_other_code = true;
    else if (arg == "--config" && has_value) config = argv[++i];
    else if (arg == "--set" && has_value) options.overrides.emplace_back(argv[++i]);
    else if (arg == "--from" && has_value) options.from.emplace_back(argv[++i]);
    else if (arg == "--arms" && has_value) options.arms = split_list(arg, argv[++i]);
    else if (arg == "--seeds" && has_value) {
      for (const std::string& item : split_list(arg, argv[++i])) {
        char* end = nullptr;
        const long seed = std::strtol(item.c_str(), &end, 10);
        if (*end != '\0' || seed < 1 || seed > 1000000) usage("--seeds needs seed numbers (1, 2, ...), got '" + item + "'");
        options.seeds.push_back(int(seed));
      }
    } else usage("unknown or incomplete argument '" + arg + "'");
  }
  if (config.empty()) usage("--config is required");
  try {
    Experiment experiment(apps::load_experiment_config(config, options.overrides), options);
    experiment.check();
    if (!options.report_only) experiment.run();
    experiment.report();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "experiment: %s\n", e.what());
    return exit_code_for(e, exit_bad_input);
  }
}
