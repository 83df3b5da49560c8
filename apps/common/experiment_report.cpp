#include "apps/common/experiment_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "apps/common/experiment_state.h"
#include "apps/common/learning_curve.h"
#include "engine/atomic_file.h"
#include "engine/error.h"
#include "training/duration_text.h"
#include "training/jsonl_log.h"
#include "training/run_config.h"
#include "training/run_logs.h"
#include "training/svg_plot.h"

namespace birdie::apps {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// The classes whose configurations the report lists one by one: what teaches retrieval.
const std::set<std::string> retrieval_classes{"copying", "selective_copying", "deshuffling"};

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

}  // namespace

void write_experiment_report(const ExperimentConfig& c_, const ExperimentOptions& o_,
                             const std::vector<ExperimentUnit>& units_) {
  using Cell = std::pair<int, int>;  // (entries, queries)
  std::map<std::string, std::map<Cell, Spread>> accuracy;
  std::map<std::string, Spread> overall;
  std::map<std::string, std::map<int, Spread>> curves;  // fine-tune step → held-out accuracy
  std::map<std::string, ThresholdSteps> threshold_steps;  // per seed
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
  PieceStamp stamp;
  std::set<std::string> code_versions;
  for (const auto& unit : finished_units(c_, o_, units_, stamp, code_versions)) {
    const ExperimentState state = read_experiment_state(unit.folder / "experiment_state.json");
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
      std::vector<training::CurvePoint> curve;
      for (const auto& point : phonebook.at("finetune").at("curve")) {
        curves[unit.arm][point.at("step").get<int>()].values.push_back(point.at("accuracy").get<double>());
        curve.push_back({point.at("step").get<int>(), 0.0, point.at("accuracy").get<double>()});
      }
      if (curve.empty()) return;
      threshold_steps[unit.arm].seeds.emplace_back(unit.seed, steps_to_threshold(curve, c_.threshold));
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
    if (arm_is_pretrained(c_, unit.arm)) {
      std::map<std::string, Spread> over_run;
      training::for_each_log_line(unit.folder / "evaluations.jsonl", INT64_MAX,
                              [&](const std::string& line, const std::string& where) {
                                ++evaluations;
                                for (const auto& [name, p] : training::parse_evaluation_line(line, where).mixture_by_class)
                                  over_run[name].values.push_back(p);
                              });
      for (const auto& [name, spread] : over_run) mixture[unit.arm][name].values.push_back(spread.mean());
    }
    const training::RunConfig run = training::load_run_config(unit.folder / "config.toml", {});
    Json& b = budget[unit.arm];
    const double tokens =
        arm_is_pretrained(c_, unit.arm) ? double(run.tokens_per_step()) * double(run.steps) : 0.0;
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
    arms[arm] = {{"overrides", arm_overrides(c_, arm)},
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
  std::ostringstream md;
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
    if (ntp != budget.end() && ntp->second["pretrain_seconds"].get<double>() > 0 && arm_is_pretrained(c_, arm)) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2fx", (b["pretrain_seconds"].get<double>() / b["seeds"].get<double>()) /
                                                     (ntp->second["pretrain_seconds"].get<double>() /
                                                      ntp->second["seeds"].get<double>()));
      ratio = buffer;
    }
    md << "| " << arm << " | " << b["parameters"].get<std::int64_t>() << " | "
       << static_cast<std::int64_t>(b["pretrain_tokens"].get<double>()) << " | "
       << b["evaluations"].get<std::int64_t>() / b["seeds"].get<std::int64_t>() << " | "
       << training::duration_text(b["pretrain_seconds"].get<double>()) << " | " << ratio << " | "
       << training::duration_text(b["evaluate_seconds"].get<double>()) << " |\n";
  }
  md << "\nPlots: `accuracy.svg` (accuracy against the number of queries), `finetune.svg` (held-out accuracy "
        "during fine-tuning, the threshold dashed, a dot where each seed reaches it).\n";
  write_file_atomically(c_.output / "results.md", md.str());

  // accuracy.svg: one chart per book size; finetune.svg: the learning curves.
  std::vector<training::Chart> charts;
  std::set<int> sizes;
  for (const auto& cell : cells) sizes.insert(cell.first);
  for (int size : sizes) {
    training::Chart chart{"Digit accuracy, books of " + std::to_string(size) + " entries", "numbers asked (queries)",
                      "digit accuracy", {}};
    chart.y_range = {{0.0, 1.0}};
    for (const auto& arm : c_.arms) {
      if (!accuracy.count(arm)) continue;
      training::PlotSeries series{arm, {}};
      for (const auto& [cell, spread] : accuracy.at(arm))
        if (cell.first == size) series.points.emplace_back(cell.second, spread.mean());
      if (!series.points.empty()) chart.series.push_back(series);
    }
    charts.push_back(chart);
  }
  training::write_svg_charts(c_.output / "accuracy.svg", charts);
  // The threshold as a dashed line; a dot where each seed of an arm first reaches it.
  training::Chart finetune{"Held-out digit accuracy during fine-tuning", "fine-tune step", "digit accuracy", {}};
  finetune.y_range = {{0.0, 1.0}};
  char threshold_label[48];
  std::snprintf(threshold_label, sizeof threshold_label, "threshold %.2f", c_.threshold);
  finetune.lines.push_back({c_.threshold, threshold_label});
  for (const auto& arm : c_.arms) {
    if (!curves.count(arm)) continue;
    training::PlotSeries series{arm, {}};
    for (const auto& [step, spread] : curves.at(arm)) series.points.emplace_back(step, spread.mean());
    if (threshold_steps.count(arm))
      for (const auto& [seed, step] : threshold_steps.at(arm).seeds)
        if (step) series.markers.emplace_back(*step, c_.threshold);
    finetune.series.push_back(series);
  }
  training::write_svg_charts(c_.output / "finetune.svg", {finetune});

  std::printf("\n");
  std::fflush(stdout);
  std::ifstream shown(c_.output / "results.md");
  std::string line;
  while (std::getline(shown, line)) std::printf("%s\n", line.c_str());
  std::printf("\nresults: %s, %s, %s, %s\n", (c_.output / "results.md").string().c_str(),
              (c_.output / "results.json").string().c_str(), (c_.output / "accuracy.svg").string().c_str(),
              (c_.output / "finetune.svg").string().c_str());
}

}  // namespace birdie::apps
