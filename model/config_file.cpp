#include "model/config_file.h"

#include <climits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "engine/error.h"
#include "model/architecture.h"

namespace birdie::model {

namespace {
constexpr const char* known_keys[] = {"architecture", "vocab",       "dim",        "state",      "layers",
                                      "bidirectional", "tie_embeddings", "norm_eps", "forget_init", "heads",
                                      "mlp_hidden",   "conv_width",  "rope_base"};

// The keys every architecture reads; any other means something for the architectures that
// read it only (model/architecture.h: a key that an architecture would silently ignore is a
// mistake worth naming).
bool key_applies(std::string_view key, Architecture architecture) {
  for (std::string_view shared : {"architecture", "vocab", "dim", "layers", "bidirectional", "tie_embeddings",
                                  "norm_eps"})
    if (key == shared) return true;
  return architecture_reads(architecture, key);
}

template <class T>
T required(const toml::table& table, const char* key, std::string_view source) {
  const toml::node* node = table.get(key);
  BIRDIE_CHECK(node != nullptr, source, ": missing key '", key, "'");
  // Whole numbers only from integers (a float's conversion is unchecked in toml++).
  std::optional<T> value = std::is_floating_point_v<T> ? node->value<T>() : node->value_exact<T>();
  BIRDIE_CHECK(value.has_value(), source, ": key '", key, "' has the wrong type (expected ",
               std::is_same_v<T, std::string> ? "a string" : std::is_same_v<T, bool> ? "true or false"
                                                         : "a number", ")");
  return *value;
}
}  // namespace

ModelConfig model_config_from_toml(const toml::table& table, std::string_view source) {
  for (const auto& [key, value] : table) {
    bool known = false;
    for (const char* k : known_keys) known = known || key.str() == k;
    BIRDIE_CHECK(known, source, ": unknown key '", key.str(), "' (known: architecture, vocab, dim, state, layers, "
                 "bidirectional, tie_embeddings, norm_eps, forget_init, heads, mlp_hidden, conv_width, rope_base)");
  }
  // The names' parsers say what is allowed; the file is added here.
  const auto in_source = [&](auto parse) {
    try {
      return parse();
    } catch (const Error& e) {
      throw Error(detail::concat(source, ": ", e.what()));
    }
  };
  ModelConfig c;
  if (table.contains("architecture"))
    c.architecture = in_source([&] { return parse_architecture(required<std::string>(table, "architecture", source)); });
  for (const auto& [key, value] : table)
    BIRDIE_CHECK(key_applies(key.str(), c.architecture), source, ": key '", key.str(), "' has no meaning for "
                 "architecture = \"", architecture_name(c.architecture), "\": remove it");
  c.vocab = required<std::int64_t>(table, "vocab", source);
  c.dim = required<std::int64_t>(table, "dim", source);
  const auto needs = [&](std::string_view key) { return architecture_requires(c.architecture, key); };
  if (needs("state")) c.state = required<std::int64_t>(table, "state", source);
  c.layers = required<std::int64_t>(table, "layers", source);
  if (needs("mlp_hidden")) c.mlp_hidden = required<std::int64_t>(table, "mlp_hidden", source);
  if (needs("heads")) c.heads = required<std::int64_t>(table, "heads", source);
  if (table.contains("conv_width")) c.conv_width = required<std::int64_t>(table, "conv_width", source);
  if (table.contains("rope_base")) c.rope_base = required<double>(table, "rope_base", source);
  if (table.contains("bidirectional"))
    c.bidirectional =
        in_source([&] { return parse_bidirectional_layers(required<std::string>(table, "bidirectional", source)); });
  if (table.contains("tie_embeddings")) c.tie_embeddings = required<bool>(table, "tie_embeddings", source);
  if (table.contains("norm_eps")) c.norm_eps = required<double>(table, "norm_eps", source);
  if (table.contains("forget_init"))
    c.forget_init = in_source([&] { return parse_forget_gate_init(required<std::string>(table, "forget_init", source)); });
  in_source([&] {
    c.validate();
    return 0;
  });
  return c;
}

ModelConfig load_model_config_toml(const std::filesystem::path& path) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw Error(detail::concat(path.string(), ":", e.source().begin.line, ": ", e.description()));
  }
  const toml::table* model = root["model"].as_table();
  BIRDIE_CHECK(model != nullptr, path.string(), ": no [model] table");
  return model_config_from_toml(*model, path.string() + " [model]");
}

std::string model_config_to_toml(const ModelConfig& c) {
  toml::table t;
  auto put = [&](const char* key, auto value) {
    if (key_applies(key, c.architecture)) t.insert(key, value);
  };
  put("architecture", std::string(architecture_name(c.architecture)));
  put("vocab", c.vocab);
  put("dim", c.dim);
  put("state", c.state);
  put("heads", c.heads);
  put("mlp_hidden", c.mlp_hidden);
  put("conv_width", c.conv_width);
  put("layers", c.layers);
  put("bidirectional", std::string(bidirectional_layers_name(c.bidirectional)));
  put("tie_embeddings", c.tie_embeddings);
  put("norm_eps", c.norm_eps);
  put("forget_init", std::string(forget_gate_init_name(c.forget_init)));
  put("rope_base", c.rope_base);
  std::ostringstream out;
  // Double-quoted strings, like the rest of a run folder's config.toml.
  out << toml::toml_formatter(t, toml::toml_formatter::default_flags & ~toml::format_flags::allow_literal_strings)
      << "\n";
  return out.str();
}

std::string model_config_to_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  j["architecture"] = std::string(architecture_name(c.architecture));
  j["vocab"] = c.vocab;
  j["dim"] = c.dim;
  j["state"] = c.state;
  j["layers"] = c.layers;
  j["bidirectional"] = std::string(bidirectional_layers_name(c.bidirectional));
  j["tie_embeddings"] = c.tie_embeddings;
  j["norm_eps"] = c.norm_eps;
  j["forget_init"] = std::string(forget_gate_init_name(c.forget_init));
  j["heads"] = c.heads;
  j["mlp_hidden"] = c.mlp_hidden;
  j["conv_width"] = c.conv_width;
  j["rope_base"] = c.rope_base;
  return j.dump();
}

ModelConfig model_config_from_json(std::string_view json, std::string_view source) {
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  BIRDIE_CHECK(!j.is_discarded(), source, ": the model config is not valid JSON");
  BIRDIE_CHECK(j.is_object(), source, ": the model config is not a JSON object");
  // Each key checked for its type (and whole numbers for their range) before it is taken.
  const auto field = [&](const char* key, bool present_or_default, auto check, const char* expected) {
    const auto it = j.find(key);
    BIRDIE_CHECK(it != j.end() || present_or_default, source, ": the model config has no key '", key, "'");
    BIRDIE_CHECK(it == j.end() || check(*it), source, ": key '", key, "' of the model config must be ", expected,
                 ", got ", it->dump());
    return it;
  };
  const auto whole = [&](const char* key, std::optional<std::int64_t> fallback = std::nullopt) {
    const auto it = field(key, fallback.has_value(), [](const nlohmann::json& v) {
      return v.is_number_integer() && (!v.is_number_unsigned() || v.get<std::uint64_t>() <= std::uint64_t(INT64_MAX));
    }, "a whole number");
    return it == j.end() ? *fallback : it->get<std::int64_t>();
  };
  const auto text = [&](const char* key, std::optional<std::string> fallback = std::nullopt) {
    const auto it = field(key, fallback.has_value(), [](const nlohmann::json& v) { return v.is_string(); }, "a string");
    return it == j.end() ? *fallback : it->get<std::string>();
  };
  const auto number = [&](const char* key, std::optional<double> fallback = std::nullopt) {
    const auto it = field(key, fallback.has_value(), [](const nlohmann::json& v) { return v.is_number(); }, "a number");
    return it == j.end() ? *fallback : it->get<double>();
  };
  try {
    ModelConfig c;
    c.vocab = whole("vocab");
    c.dim = whole("dim");
    c.state = whole("state");
    c.layers = whole("layers");
    c.bidirectional = parse_bidirectional_layers(text("bidirectional"));
    c.tie_embeddings = field("tie_embeddings", false, [](const nlohmann::json& v) { return v.is_boolean(); },
                             "true or false")->get<bool>();
    c.norm_eps = number("norm_eps");
    // Checkpoints written before the key existed started from zero biases.
    c.forget_init = parse_forget_gate_init(text("forget_init", "zero"));
    // ... and before there was more than one architecture.
    c.architecture = parse_architecture(text("architecture", "gated_ssm"));
    c.heads = whole("heads", 0);
    c.mlp_hidden = whole("mlp_hidden", 0);
    c.conv_width = whole("conv_width", 4);
    c.rope_base = number("rope_base", 10000.0);
    c.validate();
    return c;
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.starts_with(std::string(source))) throw;
    throw Error(detail::concat(source, ": ", message));
  }
}

}  // namespace birdie::model
