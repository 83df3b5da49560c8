#include "apps/common/experiment_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <toml++/toml.h>

#include "engine/error.h"

namespace birdie::apps {
namespace {

const std::map<std::string, std::set<std::string>> known_keys{
    {"experiment", {"output", "run", "arms", "models", "seeds", "set"}},
    {"finetune",
     {"protocol", "steps", "rows", "lr", "entries", "queries", "split_names", "curve_every", "curve_books",
      "curve_entries", "curve_queries", "threshold"}},
    {"evaluation", {"entries", "queries", "books", "seed", "validation_samples"}},
};
const std::set<std::string> custom_arm_keys{"mixture", "bidirectional", "set"};

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

// A list of book sizes or query counts, each in 1..100000; absent: `target` is kept.
void read_book_sizes(const Reader& r, const std::string& section, const char* key, std::vector<int>& target) {
  if (!r.node(section, key)) return;
  std::vector<std::int64_t> list;
  r.read_list(section, key, list, "whole numbers");
  BIRDIE_CHECK(!list.empty(), r.where(section, key), " must not be empty");
  target.clear();
  for (auto v : list) {
    BIRDIE_CHECK(v >= 1 && v <= 100000, r.where(section, key), " holds ", v, "; use 1..100000");
    target.push_back(static_cast<int>(v));
  }
}

bool is_named_mixture(const std::string& mixture) {
  return mixture == "birdie" || mixture == "ntp" || mixture == "ul2" || mixture == "uniform";
}

// [arms.NAME] tables: arms of one's own, beside the built-in ones.
void read_custom_arms(const toml::table& root, const std::string& source, std::map<std::string, ArmDefinition>& arms) {
  const toml::node* node = root.get("arms");
  if (!node) return;
  BIRDIE_CHECK(node->is_table(), source, ": arms must hold one table per arm, e.g. [arms.birdie-floor] with "
               "mixture = \"birdie\" and set = [\"objectives.class_floor=0.1\"]");
  for (const auto& [key, value] : *node->as_table()) {
    const std::string name(key.str()), where = source + ": arms." + name;
    BIRDIE_CHECK(!name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
                   return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_';
                 }), where, ": an arm's name is its folder's: use letters, digits, '-' and '_'");
    BIRDIE_CHECK(std::none_of(built_in_arms().begin(), built_in_arms().end(),
                              [&](const auto& entry) { return entry.first == name; }),
                 where, ": '", name, "' is a built-in arm; give the custom arm another name");
    BIRDIE_CHECK(value.is_table(), where, " must be a table with mixture, bidirectional and set");
    const toml::table& table = *value.as_table();
    for (const auto& [k, v] : table)
      BIRDIE_CHECK(custom_arm_keys.count(std::string(k.str())), source, ": unknown key 'arms.", name, ".", k.str(),
                   "' (the keys of an arm are mixture, bidirectional and set)");
    ArmDefinition arm;
    const auto mixture = table["mixture"].value<std::string>();
    BIRDIE_CHECK(mixture.has_value() && !mixture->empty(), where,
                 ".mixture is required: birdie, ntp, ul2, uniform or the path of a weights file "
                 "(e.g. configs/objectives/example_mixture.toml)");
    arm.mixture = *mixture;
    std::error_code error;  // a name too long for the file system is a missing file, not an exception
    BIRDIE_CHECK(is_named_mixture(arm.mixture) || std::filesystem::is_regular_file(arm.mixture, error), where,
                 ".mixture = \"", arm.mixture, "\" is neither birdie, ntp, ul2, uniform nor an existing weights file",
                 error && error != std::errc::no_such_file_or_directory ? " (" + error.message() + ")" : "");
    if (const toml::node* layers = table.get("bidirectional")) {
      const auto text = layers->value<std::string>();
      BIRDIE_CHECK(text && (*text == "all" || *text == "alternate" || *text == "none"), where,
                   ".bidirectional must be \"all\", \"alternate\" or \"none\"");
      arm.bidirectional = *text;
    }
    if (const toml::node* set = table.get("set")) {
      const toml::array* list = set->as_array();
      BIRDIE_CHECK(list, where, ".set must be a list of \"section.key=value\" strings");
      for (const auto& item : *list) {
        const auto text = item.value<std::string>();
        BIRDIE_CHECK(text && text->find('=') != std::string::npos, where,
                     ".set must be a list of \"section.key=value\" strings, e.g. [\"objectives.class_floor=0.1\"]");
        arm.overrides.push_back(*text);
      }
    }
    arms[name] = arm;
  }
}

}  // namespace

const std::vector<std::pair<std::string, ArmDefinition>>& built_in_arms() {
  static const std::vector<std::pair<std::string, ArmDefinition>> arms{
      {"birdie", {"birdie", "alternate", {}, true}},   {"birdie-causal", {"birdie", "none", {}, true}},
      {"ntp", {"ntp", "none", {}, true}},               {"ul2", {"ul2", "alternate", {}, true}},
      {"uniform", {"uniform", "alternate", {}, true}}, {"scratch", {"uniform", "alternate", {}, false}}};
  return arms;
}

const ArmDefinition& arm_definition(const ExperimentConfig& config, const std::string& arm) {
  const std::string base = base_arm(arm);
  for (const auto& [name, definition] : built_in_arms())
    if (name == base) return definition;
  const auto custom = config.custom_arms.find(base);
  if (custom != config.custom_arms.end()) return custom->second;
  throw Error("unknown arm '" + arm + "'");
}

namespace {
std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
std::vector<std::string> arm_setting(const ArmDefinition& arm) {
  return {"objectives.mixture=" + toml_string(arm.mixture), "model.bidirectional=" + toml_string(arm.bidirectional)};
}
}  // namespace

std::vector<std::string> arm_overrides(const ExperimentConfig& config, const std::string& arm) {
  const ArmDefinition& definition = arm_definition(config, arm);
  std::vector<std::string> o = arm_setting(definition);
  o.insert(o.end(), definition.overrides.begin(), definition.overrides.end());
  return o;
}

std::vector<std::string> arm_pretrain_overrides(const ExperimentConfig& config, const std::string& arm) {
  const ArmDefinition& definition = arm_definition(config, arm);
  std::vector<std::string> o = arm_setting(definition);
  o.insert(o.end(), config.overrides.begin(), config.overrides.end());
  o.insert(o.end(), definition.overrides.begin(), definition.overrides.end());
  return o;
}

bool arm_is_pretrained(const ExperimentConfig& config, const std::string& arm) {
  return arm_definition(config, arm).pretrained;
}

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
    // section.key, or a longer path (arms.NAME.key): tables are made along the way.
    toml::table* table = &root;
    std::string path_text = assignment.substr(0, equals);
    for (std::size_t from = 0;;) {
      const auto next = path_text.find('.', from);
      const std::string part = path_text.substr(from, next == std::string::npos ? std::string::npos : next - from);
      BIRDIE_CHECK(!part.empty(), "--set ", assignment, ": an empty name in '", path_text, "'");
      if (next == std::string::npos) {
        table->insert_or_assign(part, *parsed.get("v"));
        break;
      }
      if (!table->contains(part)) table->insert(part, toml::table{});
      table = (*table)[part].as_table();
      BIRDIE_CHECK(table, "--set ", assignment, ": '", path_text.substr(0, next), "' is not a table");
      from = next + 1;
    }
  }
  for (const auto& [section, node] : root) {
    const std::string name(section.str());
    if (name == "arms") continue;  // read below, arm by arm
    const auto known = known_keys.find(name);
    BIRDIE_CHECK(known != known_keys.end(), path.string(), ": unknown section [", name,
                 "]; the sections are [experiment], [finetune], [evaluation] and [arms.NAME]");
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
  read_custom_arms(root, path.string(), c.custom_arms);
  r.read_list("experiment", "arms", c.arms, "arm names");
  BIRDIE_CHECK(!c.arms.empty(), path.string(), ": experiment.arms must name at least one arm");
  for (const auto& arm : c.arms) {
    std::string names;
    for (const auto& [k, definition] : built_in_arms()) names += (names.empty() ? "" : ", ") + k;
    for (const auto& [k, definition] : c.custom_arms) names += ", " + k;
    const bool built_in = std::any_of(built_in_arms().begin(), built_in_arms().end(),
                                      [&](const auto& entry) { return entry.first == base_arm(arm); });
    BIRDIE_CHECK(built_in || c.custom_arms.count(base_arm(arm)), path.string(), ": experiment.arms: unknown arm '",
                 arm, "'; the arms are ", names,
                 " (define another as an [arms.NAME] table), each optionally followed by @MODEL (a name in "
                 "experiment.models)");
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
  read_book_sizes(r, "finetune", "curve_entries", c.curve_entries);
  read_book_sizes(r, "finetune", "curve_queries", c.curve_queries);
  r.read("finetune", "threshold", c.threshold, "a number (held-out digit accuracy, e.g. 0.5)");
  BIRDIE_CHECK(std::isfinite(c.threshold) && c.threshold > 0 && c.threshold <= 1, r.where("finetune", "threshold"),
               " = ", c.threshold, " must be a digit accuracy in (0, 1], e.g. 0.5");

  read_book_sizes(r, "evaluation", "entries", c.eval_entries);
  read_book_sizes(r, "evaluation", "queries", c.eval_queries);
  r.read_int("evaluation", "books", c.eval_books, 1);
  r.read_int("evaluation", "validation_samples", c.eval_validation_samples, 1);
  int seed = static_cast<int>(c.eval_seed);
  r.read_int("evaluation", "seed", seed, 0);
  c.eval_seed = static_cast<std::uint64_t>(seed);
  return c;
}

}  // namespace birdie::apps
