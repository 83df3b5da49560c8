#include "apps/common/experiment_config.h"

#include <algorithm>
#include <map>
#include <set>
#include <toml++/toml.h>

#include "engine/error.h"

namespace birdie::apps {
namespace {

const std::map<std::string, std::set<std::string>> known_keys{
    {"experiment", {"output", "run", "arms", "models", "seeds", "set"}},
    {"finetune",
     {"protocol", "steps", "rows", "lr", "entries", "queries", "split_names", "curve_every", "curve_books"}},
    {"evaluation", {"entries", "queries", "books", "seed"}},
};

struct Reader {
  const toml::table& root;
  std::string source;

  const toml::node* node(const std::string& section, const char* key) const {
    const toml::table* t = root[section].as_table();
    return t ? t->get(key) : nullptr;
  }
  std::string where(const std::string& section, const char* key) const {
    return source + ": " + section + "." + key;
  }
  template <class T>
  void read(const std::string& section, const char* key, T& target, const char* expected) const {
    const toml::node* n = node(section, key);
    if (!n) return;
    // Whole numbers only from integers (a float's conversion is unchecked in toml++).
    const auto value = std::is_floating_point_v<T> ? n->value<T>() : n->value_exact<T>();
    BIRDIE_CHECK(value.has_value(), where(section, key), " must be ", expected);
    target = *value;
  }
  void read_int(const std::string& section, const char* key, int& target, int minimum) const {
    std::int64_t v = target;
    read(section, key, v, "a whole number");
    BIRDIE_CHECK(v >= minimum && v <= 1'000'000'000, where(section, key), " must be ≥ ", minimum, ", got ", v);
    target = static_cast<int>(v);
  }
  template <class T>
  void read_list(const std::string& section, const char* key, std::vector<T>& target, const char* expected) const {
    const toml::node* n = node(section, key);
    if (!n) return;
    const toml::array* a = n->as_array();
    BIRDIE_CHECK(a, where(section, key), " must be a list of ", expected);
    target.clear();
    for (const auto& item : *a) {
      const auto value = std::is_floating_point_v<T> ? item.value<T>() : item.value_exact<T>();
      BIRDIE_CHECK(value.has_value(), where(section, key), " must be a list of ", expected);
      target.push_back(*value);
    }
  }
};

}  // namespace

const std::vector<std::string>& known_arms() {
  static const std::vector<std::string> arms{"birdie", "birdie-causal", "ntp", "ul2", "uniform", "scratch"};
  return arms;
}

std::vector<std::string> arm_overrides(const std::string& arm) {
  const auto setting = [](const std::string& mixture, const std::string& bidirectional) {
    return std::vector<std::string>{"objectives.mixture=\"" + mixture + "\"",
                                    "model.bidirectional=\"" + bidirectional + "\""};
  };
  if (arm.find('@') != std::string::npos) return arm_overrides(base_arm(arm));
  if (arm == "birdie") return setting("birdie", "alternate");
  if (arm == "birdie-causal") return setting("birdie", "none");
  if (arm == "ntp") return setting("ntp", "none");
  if (arm == "ul2") return setting("ul2", "alternate");
  if (arm == "uniform" || arm == "scratch") return setting("uniform", "alternate");
  throw Error("unknown arm '" + arm + "'");
}

bool arm_is_pretrained(const std::string& arm) { return base_arm(arm) != "scratch"; }

std::string base_arm(const std::string& arm) { return arm.substr(0, arm.find('@')); }

std::filesystem::path arm_run_file(const ExperimentConfig& config, const std::string& arm) {
  const auto at = arm.find('@');
  return at == std::string::npos ? config.run : config.models.at(arm.substr(at + 1));
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw Error(detail::concat("cannot read experiment file ", path.string(), ": ", e.description(), " (line ",
                               e.source().begin.line, ")"));
  }
  // --set section.key=value, parsed as TOML values like the file's.
  for (const auto& assignment : overrides) {
    const auto equals = assignment.find('='), dot = assignment.find('.');
    BIRDIE_CHECK(equals != std::string::npos && dot != std::string::npos && dot < equals, "--set ", assignment,
                 ": expected section.key=value, e.g. --set finetune.steps=50");
    toml::table parsed;
    try {
      parsed = toml::parse("v = " + assignment.substr(equals + 1));
    } catch (const toml::parse_error& e) {
      throw Error(detail::concat("--set ", assignment, ": the value is not TOML (", e.description(),
                                 "); strings need quotes: key=\\\"text\\\""));
    }
    const std::string section = assignment.substr(0, dot), key = assignment.substr(dot + 1, equals - dot - 1);
    if (!root[section].as_table()) root.insert(section, toml::table{});
    root[section].as_table()->insert_or_assign(key, *parsed.get("v"));
  }
  for (const auto& [section, node] : root) {
    const std::string name(section.str());
    const auto known = known_keys.find(name);
    BIRDIE_CHECK(known != known_keys.end(), path.string(), ": unknown section [", name,
                 "]; the sections are [experiment], [finetune] and [evaluation]");
    BIRDIE_CHECK(node.is_table(), path.string(), ": ", name, " must be a table");
    for (const auto& [key, value] : *node.as_table())
      BIRDIE_CHECK(known->second.count(std::string(key.str())), path.string(), ": unknown key '", name, ".", key.str(),
                   "'");
  }
  ExperimentConfig c;
  c.source = path;
  const Reader r{root, path.string()};
  std::string output, run;
  r.read("experiment", "output", output, "a string (a folder)");
  r.read("experiment", "run", run, "a string (a run configuration file)");
  BIRDIE_CHECK(!output.empty() && !run.empty(), path.string(), ": experiment.output and experiment.run are required");
  c.output = output;
  c.run = run;
  if (const toml::node* models = r.node("experiment", "models")) {
    BIRDIE_CHECK(models->is_table(), r.where("experiment", "models"),
                 " must be a table of run files, e.g. models = { hawk = \"configs/experiments/hawk-run.toml\" }");
    for (const auto& [name, file] : *models->as_table()) {
      const auto value = file.value_exact<std::string>();
      BIRDIE_CHECK(value.has_value() && !value->empty(), r.where("experiment", "models"), ".", name.str(),
                   " must be the path of a run configuration file");
      c.models[std::string(name.str())] = *value;
    }
  }
  r.read_list("experiment", "arms", c.arms, "arm names");
  BIRDIE_CHECK(!c.arms.empty(), path.string(), ": experiment.arms must name at least one arm");
  for (const auto& arm : c.arms) {
    std::string names;
    for (const auto& k : known_arms()) names += (names.empty() ? "" : ", ") + k;
    BIRDIE_CHECK(std::count(known_arms().begin(), known_arms().end(), base_arm(arm)) == 1, path.string(),
                 ": experiment.arms: unknown arm '", arm, "'; the arms are ", names,
                 ", each optionally followed by @MODEL (a name in experiment.models)");
    if (const auto at = arm.find('@'); at != std::string::npos)
      BIRDIE_CHECK(c.models.count(arm.substr(at + 1)), path.string(), ": experiment.arms: '", arm,
                   "' names the model '", arm.substr(at + 1), "', which experiment.models does not define");
    BIRDIE_CHECK(std::count(c.arms.begin(), c.arms.end(), arm) == 1, path.string(), ": experiment.arms lists '", arm,
                 "' twice");
  }
  r.read_int("experiment", "seeds", c.seeds, 1);
  r.read_list("experiment", "set", c.overrides, "\"section.key=value\" strings");

  r.read("finetune", "protocol", c.finetune_protocol, "\"small\" or \"paper\"");
  BIRDIE_CHECK(c.finetune_protocol == "small" || c.finetune_protocol == "paper", r.where("finetune", "protocol"),
               " must be \"small\" or \"paper\"");
  r.read_int("finetune", "steps", c.finetune_steps, 0);
  r.read_int("finetune", "rows", c.finetune_rows, 1);
  if (r.node("finetune", "lr")) {
    double lr = 0;
    r.read("finetune", "lr", lr, "a number");
    BIRDIE_CHECK(lr > 0, r.where("finetune", "lr"), " must be positive");
    c.finetune_lr = lr;
  }
  r.read("finetune", "entries", c.finetune_entries, "a string \"MIN,MAX\" or \"MIN,fit\"");
  r.read("finetune", "queries", c.finetune_queries, "a string \"MIN,MAX\"");
  r.read("finetune", "split_names", c.split_names, "true or false");
  r.read_int("finetune", "curve_every", c.curve_every, 0);
  r.read_int("finetune", "curve_books", c.curve_books, 1);

  std::vector<std::int64_t> entries, queries;
  r.read_list("evaluation", "entries", entries, "whole numbers");
  r.read_list("evaluation", "queries", queries, "whole numbers");
  for (const auto& [list, target, key] : {std::tuple{&entries, &c.eval_entries, "entries"},
                                          std::tuple{&queries, &c.eval_queries, "queries"}}) {
    if (!r.node("evaluation", key)) continue;
    BIRDIE_CHECK(!list->empty(), r.where("evaluation", key), " must not be empty");
    target->clear();
    for (auto v : *list) {
      BIRDIE_CHECK(v >= 1 && v <= 100000, r.where("evaluation", key), " holds ", v, "; use 1..100000");
      target->push_back(static_cast<int>(v));
    }
  }
  r.read_int("evaluation", "books", c.eval_books, 1);
  int seed = static_cast<int>(c.eval_seed);
  r.read_int("evaluation", "seed", seed, 0);
  c.eval_seed = static_cast<std::uint64_t>(seed);
  return c;
}

}  // namespace birdie::apps
