#include "apps/common/experiment_state.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace birdie::apps {

namespace {
const char* const experiment_steps[] = {"pretrain", "evaluate", "validation"};
}

ExperimentState read_experiment_state(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  const std::string fix = ". Fix: delete it (the unit's steps are then run again) and run the experiment again";
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  BIRDIE_CHECK(!j.is_discarded(), path.string(), " is not valid JSON", fix);
  BIRDIE_CHECK(j.is_object(), path.string(), " is not a JSON object {\"pretrain\": seconds, ...}", fix);
  ExperimentState state;
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* step : experiment_steps) known = known || key == step;
    BIRDIE_CHECK(known, path.string(), ": unknown key '", key, "' (the steps are pretrain, evaluate, validation)", fix);
    BIRDIE_CHECK(value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() >= 0, path.string(),
                 ": key '", key, "': expected the step's duration in seconds (a number ≥ 0), got ", value.dump(), fix);
    state[key] = value.get<double>();
  }
  return state;
}

void write_experiment_state(const std::filesystem::path& path, const ExperimentState& state) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const char* step : experiment_steps)
    if (const auto it = state.find(step); it != state.end()) j[step] = it->second;
  write_file_atomically(path, j.dump(2) + "\n");
}

}  // namespace birdie::apps
