// What an experiment has finished of one arm and seed (<output>/<arm>/seed-<s>/
// experiment_state.json): the seconds each finished step took, {"pretrain": 812.5,
// "evaluate": 95.1, "validation": 12.0}. Written after every step; read when the same
// experiment runs again, so that a finished step is never redone.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace birdie::apps {

// step ("pretrain", "evaluate", "validation") → seconds
using ExperimentState = std::map<std::string, double>;

// An empty state when the file does not exist; an Error naming the file, the key and the
// fix when it is not such an object.
ExperimentState read_experiment_state(const std::filesystem::path& path);
// Written to a temporary file, then renamed: never half a file.
void write_experiment_state(const std::filesystem::path& path, const ExperimentState& state);

}  // namespace birdie::apps
