#include "objectives/mixture.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "engine/error.h"

namespace birdie::objectives {

std::size_t Mixture::draw(RandomGenerator& rng) const {
  const double u = rng.uniform();
  double cumulative = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    cumulative += weights[i];
    if (u < cumulative) return i;
  }
  // Rounding left u above the last cumulative sum: the last configuration with weight.
  for (std::size_t i = weights.size(); i-- > 0;)
    if (weights[i] > 0) return i;
  return 0;
}

Mixture make_mixture(std::string name, std::vector<ObjectiveConfig> configs,
                     std::vector<double> weights) {
  BIRDIE_CHECK(configs.size() == weights.size() && !configs.empty(), "mixture '", name, "': ",
               configs.size(), " configurations but ", weights.size(), " weights");
  double largest = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    BIRDIE_CHECK(std::isfinite(weights[i]) && weights[i] >= 0, "mixture '", name,
                 "': weight of '", configs[i].name, "' is ", weights[i],
                 "; weights must be finite and non-negative");
    largest = std::max(largest, weights[i]);
  }
  BIRDIE_CHECK(largest > 0, "mixture '", name, "': all weights are zero. Fix: give at least one "
               "configuration a positive weight");
  // Scaled by the largest first: finite weights can have an infinite sum (two of 1e308).
  double total = 0;
  for (double& w : weights) total += (w /= largest);
  for (double& w : weights) w /= total;
  return Mixture{std::move(name), std::move(configs), std::move(weights)};
}

Mixture uniform_mixture(const ObjectiveGrid& grid) {
  const auto by_class = grid.indices_by_class();
  const auto classes_present = std::count_if(by_class.begin(), by_class.end(),
                                             [](const auto& v) { return !v.empty(); });
  std::vector<double> weights(grid.configs.size(), 0.0);
  for (const auto& members : by_class)
    for (std::size_t i : members)
      weights[i] = 1.0 / static_cast<double>(classes_present) / static_cast<double>(members.size());
  return make_mixture("uniform", grid.configs, std::move(weights));
}

Mixture next_token_mixture() {
  return make_mixture("ntp", {ObjectiveConfig{"next_token", NextTokenParams{}, ParadigmPlacement::random}},
                      {1.0});
}

Mixture ul2_mixture() {
  auto span = [](const char* name, double rate, double mean) {
    return ObjectiveConfig{name, InfillingParams{rate, mean, 2048}, ParadigmPlacement::random};
  };
  return make_mixture(
      "ul2",
      {span("ul2_r_s3_p15", 0.15, 3), span("ul2_r_s8_p15", 0.15, 8),
       span("ul2_x_s3_p50", 0.5, 3), span("ul2_x_s8_p50", 0.5, 8),
       span("ul2_x_s64_p15", 0.15, 64), span("ul2_x_s64_p50", 0.5, 64),
       ObjectiveConfig{"ul2_s_prefix_lm", PrefixLmParams{}, ParadigmPlacement::random}},
      {0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2});
}

Mixture load_mixture_weights(const std::filesystem::path& path, const ObjectiveGrid& grid) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path.string() << ":" << e.source().begin.line << ": " << e.description();
    throw Error(out.str());
  }
  for (const auto& [key, node] : root)
    BIRDIE_CHECK(key == "weights", path.string(), ": unknown top-level key '", key.str(),
                 "'. Fix: a mixture file has only a [weights] table");
  const toml::table* table = root["weights"].as_table();
  BIRDIE_CHECK(table, path.string(), ": no [weights] table. Fix: add [weights] with "
               "configuration_name = weight lines");
  std::vector<double> weights(grid.configs.size(), 0.0);
  for (const auto& [key, node] : *table) {
    const auto value = node.value<double>();
    BIRDIE_CHECK(value.has_value(), path.string(), ":", node.source().begin.line, ": weight '",
                 key.str(), "' must be a number");
    std::size_t index = 0;
    try {
      index = grid.index_of(key.str());
    } catch (const Error&) {
      throw Error(path.string() + ":" + std::to_string(node.source().begin.line) +
                  ": no configuration named '" + std::string(key.str()) + "' in grid " +
                  grid.source + ". Fix: use a name from the grid");
    }
    weights[index] = *value;
  }
  return make_mixture(path.filename().string(), grid.configs, std::move(weights));
}

Mixture named_mixture(const std::string& name_or_path, const ObjectiveGrid& grid) {
  if (name_or_path == "ntp") return next_token_mixture();
  if (name_or_path == "ul2") return ul2_mixture();
  if (name_or_path == "uniform") return uniform_mixture(grid);
  std::error_code error;  // a name too long for the file system is a missing file, not an exception
  BIRDIE_CHECK(std::filesystem::exists(name_or_path, error), "mixture '", name_or_path,
               "' is neither ntp, ul2, uniform nor an existing weights file", error && error != std::errc::no_such_file_or_directory ? " (" + error.message() + ")" : "");
  return load_mixture_weights(name_or_path, grid);
}

}  // namespace birdie::objectives
