// Model configurations in TOML (configs/model/*.toml) and in JSON (the safetensors
// metadata of a checkpoint). Unknown keys and wrong types are errors that name the key,
// the file and what was expected.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "model/model_config.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace birdie::model {

// Reads the [model] table of a TOML file.
ModelConfig load_model_config_toml(const std::filesystem::path& path);
// From a parsed [model] table; `source` names it in messages ("configs/tiny.toml [model]").
ModelConfig model_config_from_toml(const toml::table& table, std::string_view source);

std::string model_config_to_json(const ModelConfig& config);
// The keys of a [model] table (without its header) that apply to the architecture, one
// "key = value" line each, as model_config_from_toml reads them back.
std::string model_config_to_toml(const ModelConfig& config);
ModelConfig model_config_from_json(std::string_view json, std::string_view source);

}  // namespace birdie::model
