#include "objectives/objective_grid.h"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "engine/error.h"

namespace birdie::objectives {
namespace {

// Reads the keys of one grid entry, remembering which were used so that every key left
// over can be reported as unknown.
class EntryReader {
 public:
  EntryReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  template <class T>
  void read(std::string_view key, T& value) {
    used_.insert(std::string(key));
    const toml::node* node = table_.get(key);
    if (!node) return;
    if constexpr (std::is_same_v<T, bool>) {
      auto v = node->value_exact<bool>();
      BIRDIE_CHECK(v.has_value(), where_, ": key '", key, "' must be true or false");
      value = *v;
    } else if constexpr (std::is_integral_v<T>) {
      auto v = node->value_exact<std::int64_t>();
      BIRDIE_CHECK(v.has_value(), where_, ": key '", key, "' must be an integer");
      BIRDIE_CHECK(*v >= std::numeric_limits<T>::min() && *v <= std::numeric_limits<T>::max(), where_, ": key '", key,
                   "' is ", *v, ", out of range");
      value = static_cast<T>(*v);
    } else if constexpr (std::is_floating_point_v<T>) {
      auto v = node->value<double>();  // integers are accepted for real-valued keys
      BIRDIE_CHECK(v.has_value(), where_, ": key '", key, "' must be a number");
      value = *v;
    } else {
      auto v = node->value_exact<std::string>();
      BIRDIE_CHECK(v.has_value(), where_, ": key '", key, "' must be a string");
      value = *v;
    }
  }

  // min_<name> and max_<name>.
  void read_range(std::string_view name, int& low, int& high) {
    read("min_" + std::string(name), low);
    read("max_" + std::string(name), high);
  }

  const std::string& where() const { return where_; }

  void reject_unknown_keys(std::string_view class_label) const {
    for (const auto& [key, node] : table_) {
      BIRDIE_CHECK(used_.count(std::string(key.str())), where_, ": unknown key '", key.str(),
                   "' for class ", class_label,
                   ". Fix: remove it or use a key listed in objectives/objective_grid.h");
    }
  }

 private:
  const toml::table& table_;
  std::string where_;
  std::set<std::string> used_;
};

ParadigmPlacement parse_placement(const std::string& text, const std::string& where) {
  if (text == "random") return ParadigmPlacement::random;
  if (text == "prefix") return ParadigmPlacement::prefix;
  if (text == "suffix") return ParadigmPlacement::suffix;
  if (text == "none") return ParadigmPlacement::none;
  throw Error(where + ": paradigm = \"" + text +
              "\" is not a placement. Fix: use \"random\", \"prefix\", \"suffix\" or \"none\"");
}

std::string percent(double rate) {
  std::ostringstream out;
  out << rate * 100;
  return out.str();
}

// A name that says what the configuration is, with no dots (so it is a bare TOML key in a
// weights file): infilling_p15_s3_l512, copying_l128_256, ...
std::string generated_name(const ObjectiveConfig& config) {
  std::ostringstream out;
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, NextTokenParams>) out << "next_token";
        if constexpr (std::is_same_v<P, PrefixLmParams>) out << "prefix_lm";
        if constexpr (std::is_same_v<P, NextTokenParams> || std::is_same_v<P, PrefixLmParams>)
          if (p.max_len > 0) out << "_l" << p.max_len;
        if constexpr (std::is_same_v<P, InfillingParams>)
          out << "infilling_p" << percent(p.corruption_rate) << "_s" << p.mean_span << "_l"
              << p.max_len;
        if constexpr (std::is_same_v<P, AutoencodingParams>)
          out << (p.deshuffle ? "autoencoding_deshuffle_p" : "autoencoding_p")
              << percent(p.corruption_rate) << "_s" << p.mean_span << "_l" << p.max_len;
        if constexpr (std::is_same_v<P, CopyingParams>)
          out << "copying_l" << p.min_len << "_" << p.max_len;
        if constexpr (std::is_same_v<P, DeshufflingParams>)
          out << "deshuffling_f" << percent(p.shuffle_fraction) << "_l" << p.min_len << "_"
              << p.max_len;
        if constexpr (std::is_same_v<P, SelectiveCopyingParams>)
          out << "selective_copying_" << (p.query_first ? "query_first" : "query_last") << "_c"
              << p.min_context << "_" << p.max_context;
      },
      config.params);
  std::string name = out.str();
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

// Each class's keys (objectives/objective_grid.h), read in this order.
void read_keys(EntryReader& reader, NextTokenParams& p) { reader.read("max_len", p.max_len); }
void read_keys(EntryReader& reader, PrefixLmParams& p) { reader.read("max_len", p.max_len); }

template <class SpanCorruption>
void read_span_corruption_keys(EntryReader& reader, SpanCorruption& p) {
  reader.read("corruption_rate", p.corruption_rate);
  reader.read("mean_span", p.mean_span);
  reader.read("max_len", p.max_len);
}
void read_keys(EntryReader& reader, InfillingParams& p) { read_span_corruption_keys(reader, p); }
void read_keys(EntryReader& reader, AutoencodingParams& p) {
  read_span_corruption_keys(reader, p);
  reader.read("deshuffle", p.deshuffle);
}

void read_keys(EntryReader& reader, CopyingParams& p) { reader.read_range("len", p.min_len, p.max_len); }
void read_keys(EntryReader& reader, DeshufflingParams& p) {
  reader.read_range("len", p.min_len, p.max_len);
  reader.read("shuffle_fraction", p.shuffle_fraction);
}

void read_keys(EntryReader& reader, SelectiveCopyingParams& p) {
  reader.read_range("context", p.min_context, p.max_context);
  reader.read_range("spans", p.min_spans, p.max_spans);
  reader.read_range("span_len", p.min_span_len, p.max_span_len);
  reader.read_range("delimiter", p.min_delimiter, p.max_delimiter);
  std::string query = "first";
  reader.read("query", query);
  BIRDIE_CHECK(query == "first" || query == "last", reader.where(), ": query = \"", query,
               "\" is not a position. Fix: use \"first\" or \"last\"");
  p.query_first = query == "first";
}

// The defaults of the class named `class_text`.
ObjectiveParams default_params(const std::string& class_text, const std::string& where) {
  const ObjectiveParams every_class[] = {NextTokenParams{},    PrefixLmParams{},   InfillingParams{},
                                         AutoencodingParams{}, CopyingParams{},    DeshufflingParams{},
                                         SelectiveCopyingParams{}};
  for (const ObjectiveParams& params : every_class)
    if (class_name(static_cast<ObjectiveClass>(params.index())) == class_text) return params;
  throw Error(where + ": unknown class \"" + class_text +
              "\". Fix: use next_token, prefix_lm, infilling, autoencoding, copying, "
              "deshuffling or selective_copying");
}

ObjectiveConfig read_entry(const toml::table& entry, const std::string& where,
                           ParadigmPlacement default_placement) {
  EntryReader reader(entry, where);
  std::string class_text;
  reader.read("class", class_text);
  BIRDIE_CHECK(!class_text.empty(), where,
               ": missing key 'class'. Fix: add class = \"next_token\" | \"prefix_lm\" | "
               "\"infilling\" | \"autoencoding\" | \"copying\" | \"deshuffling\" | "
               "\"selective_copying\"");
  ObjectiveConfig config;
  config.paradigm = default_placement;
  std::string placement_text(placement_name(default_placement));
  reader.read("paradigm", placement_text);
  config.paradigm = parse_placement(placement_text, where);
  reader.read("name", config.name);
  config.params = default_params(class_text, where);
  std::visit([&](auto& p) { read_keys(reader, p); }, config.params);
  reader.reject_unknown_keys(class_text);
  if (config.name.empty()) config.name = generated_name(config);
  return config;
}

std::string range_problem(const char* what, int low, int high, int floor) {
  if (low < floor) return std::string(what) + " minimum must be at least " + std::to_string(floor);
  if (high < low) return std::string(what) + " maximum " + std::to_string(high) + " is below its minimum " + std::to_string(low);
  return {};
}

std::string corruption_problem(double rate, double mean_span, int max_len) {
  if (!(rate > 0 && rate < 1)) return "corruption_rate must be in (0, 1)";
  if (!(mean_span >= 1)) return "mean_span must be at least 1";
  if (max_len < 16) return "max_len must be at least 16";
  const double needed = mean_span / rate / 2;
  if (max_len < needed) {
    std::ostringstream out;
    out << "impossible combination: a sample of max_len " << max_len
        << " holds on average fewer than one span (need max_len >= mean_span / "
           "corruption_rate / 2 = "
        << needed << "). Fix: raise max_len or corruption_rate, lower mean_span, or remove "
                     "the entry";
    return out.str();
  }
  return {};
}

}  // namespace

std::string configuration_problem(const ObjectiveConfig& config) {
  return std::visit(
      [](const auto& p) -> std::string {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, NextTokenParams> || std::is_same_v<P, PrefixLmParams>) {
          if (p.max_len != 0 && p.max_len < 16) return "max_len must be 0 (fill the row) or at least 16";
          return {};
        }
        if constexpr (std::is_same_v<P, InfillingParams> || std::is_same_v<P, AutoencodingParams>)
          return corruption_problem(p.corruption_rate, p.mean_span, p.max_len);
        if constexpr (std::is_same_v<P, CopyingParams>)
          return range_problem("length", p.min_len, p.max_len, 16);
        if constexpr (std::is_same_v<P, DeshufflingParams>) {
          if (!(p.shuffle_fraction > 0 && p.shuffle_fraction <= 1))
            return "shuffle_fraction must be in (0, 1]";
          return range_problem("length", p.min_len, p.max_len, 16);
        }
        if constexpr (std::is_same_v<P, SelectiveCopyingParams>) {
          for (auto problem : {range_problem("spans", p.min_spans, p.max_spans, 1),
                               range_problem("span_len", p.min_span_len, p.max_span_len, 1),
                               range_problem("delimiter", p.min_delimiter, p.max_delimiter, 1),
                               range_problem("context", p.min_context, p.max_context, 1)})
            if (!problem.empty()) return problem;
          if (p.max_spans > 100) return "max_spans must be at most 100";
          // In 64 bits: each term is a whole int from the file, their sum and product are not.
          const std::int64_t one_region = std::int64_t(p.max_span_len) + 2 * std::int64_t(p.max_delimiter);
          if (p.min_context < p.max_spans * one_region)
            return "impossible combination: min_context " + std::to_string(p.min_context) +
                   " cannot hold max_spans regions of span and delimiters (need at least " +
                   std::to_string(p.max_spans * one_region) + "). Fix: raise min_context or "
                   "lower max_spans / max_span_len / max_delimiter";
          return {};
        }
        return {};
      },
      config.params);
}

std::size_t ObjectiveGrid::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < configs.size(); ++i)
    if (configs[i].name == name) return i;
  throw Error("objective grid " + source + ": no configuration named '" + std::string(name) +
              "'. Fix: use one of the names in the grid (they are printed by the loader)");
}

std::vector<std::vector<std::size_t>> ObjectiveGrid::indices_by_class() const {
  std::vector<std::vector<std::size_t>> by_class(objective_class_count);
  for (std::size_t i = 0; i < configs.size(); ++i)
    by_class[static_cast<std::size_t>(configs[i].objective_class())].push_back(i);
  return by_class;
}

ObjectiveGrid parse_objective_grid(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source << ":" << e.source().begin.line << ": TOML syntax error: " << e.description();
    throw Error(out.str());
  }
  ObjectiveGrid grid;
  grid.source = std::string(source);
  ParadigmPlacement default_placement = ParadigmPlacement::random;
  for (const auto& [key, node] : root) {
    if (key == "paradigm") {
      const auto placement = node.value_exact<std::string>();
      BIRDIE_CHECK(placement.has_value(), source, ": paradigm must be a string");
      default_placement = parse_placement(*placement, std::string(source) + ": paradigm");
    } else if (key != "objectives") {
      throw Error(std::string(source) + ": unknown top-level key '" + std::string(key.str()) +
                  "'. Fix: a grid file has only paradigm = \"...\" and objectives = [...]");
    }
  }
  const toml::array* entries = root["objectives"].as_array();
  BIRDIE_CHECK(entries && !entries->empty(), source,
               ": no 'objectives' array. Fix: add objectives = [ { class = \"next_token\" }, ... ]");
  std::set<std::string> names;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::node& node = (*entries)[i];
    std::ostringstream where;
    where << source << ":" << node.source().begin.line << ": objectives[" << i << "]";
    const toml::table* table = node.as_table();
    BIRDIE_CHECK(table, where.str(), ": each entry must be a table { class = ..., ... }");
    ObjectiveConfig config = read_entry(*table, where.str(), default_placement);
    const std::string problem = configuration_problem(config);
    BIRDIE_CHECK(problem.empty(), where.str(), " (", config.name, ": ", describe(config),
                 "): ", problem);
    BIRDIE_CHECK(names.insert(config.name).second, where.str(), ": duplicate name '",
                 config.name, "'. Fix: give one of the entries another name = \"...\"");
    grid.configs.push_back(std::move(config));
  }
  return grid;
}

ObjectiveGrid load_objective_grid(const std::filesystem::path& path) {
  std::ifstream in(path);
  BIRDIE_CHECK(in, "cannot open objective grid ", path.string(),
               ". Fix: pass an existing TOML file (the default is ", default_grid_path().string(), ")");
  std::stringstream text;
  text << in.rdbuf();
  return parse_objective_grid(text.str(), path.string());
}

std::filesystem::path default_grid_path() {
  return std::filesystem::path(BIRDIE_SOURCE_DIR) / "configs" / "objectives" / "default_grid.toml";
}

}  // namespace birdie::objectives
