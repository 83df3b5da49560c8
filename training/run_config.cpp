#include "training/run_config.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "engine/error.h"
#include "model/config_file.h"

namespace birdie::training {

namespace {

const std::map<std::string, std::set<std::string>> known_keys{
    {"run", {"output", "device", "precision", "seed"}},
    {"data", {"path"}},
    {"model", {"architecture", "heads", "mlp_hidden", "conv_width", "rope_base", "vocab", "dim", "state", "layers", "bidirectional", "tie_embeddings", "norm_eps", "forget_init",
               "recompute_blocks"}},
    {"objectives", {"mixture", "grid", "validation_samples", "candidates", "critic_iterations", "policy_lag_steps", "class_floor", "evaluation_budget"}},
    {"optimizer", {"lr", "min_lr_ratio", "warmup_steps", "weight_decay", "beta1", "beta2", "eps", "clip", "zero", "bucket_mib"}},
    {"batch", {"sequence_length", "rows", "accumulation", "min_pack_tokens", "workers"}},
    {"schedule", {"steps", "log_every", "checkpoint_every", "keep_checkpoints", "max_bad_steps"}},
};

std::string known_list(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// Typed access to one section, remembering the file for messages.
struct Section {
  const toml::table* table;
  std::string name;
  std::string source;

  const toml::node* node(const char* key) const { return table ? table->get(key) : nullptr; }

  template <class T>
  void read(const char* key, T& target, const char* expected) const {
    const toml::node* n = node(key);
    if (!n) return;
    // Whole numbers only from integers (a float's conversion is unchecked in toml++);
    // integers are fine where a real number is expected.
    std::optional<T> value = std::is_floating_point_v<T> ? n->value<T>() : n->value_exact<T>();
    BIRDIE_CHECK(value.has_value(), source, ": ", name, ".", key, " must be ", expected, " (fix the file or --set ",
                 name, ".", key, "=...)");
    target = *value;
  }
  void read(const char* key, int& target) const {
    std::int64_t v = target;
    read(key, v, "a whole number");
    BIRDIE_CHECK(v >= INT32_MIN && v <= INT32_MAX, source, ": ", name, ".", key, " is out of range");
    target = static_cast<int>(v);
  }
  void read(const char* key, std::int64_t& target) const { read(key, target, "a whole number"); }
  void read(const char* key, std::uint64_t& target) const {
    std::int64_t v = static_cast<std::int64_t>(target);
    read(key, v, "a whole number");
    BIRDIE_CHECK(v >= 0, source, ": ", name, ".", key, " must not be negative");
    target = static_cast<std::uint64_t>(v);
  }
  void read(const char* key, double& target) const { read(key, target, "a number"); }
  void read(const char* key, bool& target) const { read(key, target, "true or false"); }
  void read(const char* key, std::string& target) const { read(key, target, "a string"); }
  void read(const char* key, std::filesystem::path& target) const {
    std::string s = target.string();
    read(key, s, "a string (a path)");
    target = s;
  }
};

void apply_override(toml::table& root, const std::string& assignment, const std::string& source) {
  const auto equals = assignment.find('=');
  const auto dot = assignment.find('.');
  BIRDIE_CHECK(equals != std::string::npos && dot != std::string::npos && dot < equals,
               "--set ", assignment, ": expected section.key=value, e.g. --set model.layers=12");
  const std::string section = assignment.substr(0, dot);
  const std::string key = assignment.substr(dot + 1, equals - dot - 1);
  const std::string value = assignment.substr(equals + 1);
  BIRDIE_CHECK(known_keys.count(section), "--set ", assignment, ": unknown section '", section, "' (", source, ")");
  BIRDIE_CHECK(known_keys.at(section).count(key), "--set ", assignment, ": unknown key '", section, ".", key,
               "' (known: ", known_list(known_keys.at(section)), ")");
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table& table = *root[section].as_table();
  try {
    toml::table parsed = toml::parse("v = " + value);
    table.insert_or_assign(key, *parsed.get("v"));
  } catch (const toml::parse_error&) {
    table.insert_or_assign(key, value);  // a bare word: a string
  }
}

}  // namespace

double RunConfig::learning_rate(std::int64_t step) const {
  if (warmup_steps > 0 && step <= warmup_steps) return lr * double(step) / double(warmup_steps);
  const double span = std::max<double>(1.0, double(steps - warmup_steps));
  const double progress = std::clamp(double(step - warmup_steps) / span, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine);
}

RunConfig load_run_config(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw Error(detail::concat(path.string(), ":", e.source().begin.line, ": ", e.description()));
  }
  const std::string source = path.string();
  for (const auto& [section, node] : root) {
    const std::string name(section.str());
    BIRDIE_CHECK(known_keys.count(name), source, ": unknown section [", name, "] (known: run, data, model, "
                 "objectives, optimizer, batch, schedule)");
    BIRDIE_CHECK(node.is_table(), source, ": '", name, "' must be a [table]");
    for (const auto& [key, value] : *node.as_table())
      BIRDIE_CHECK(known_keys.at(name).count(std::string(key.str())), source, ": unknown key '", name, ".",
                   key.str(), "' (known: ", known_list(known_keys.at(name)), ")");
  }
  for (const std::string& o : overrides) apply_override(root, o, source);

  RunConfig c;
  c.source = path;
  auto section = [&](const char* name) { return Section{root[name].as_table(), name, source}; };
  const Section run = section("run"), data = section("data"), model = section("model"),
                objectives = section("objectives"), optimizer = section("optimizer"), batch = section("batch"),
                schedule = section("schedule");
  run.read("output", c.output);
  run.read("device", c.device);
  run.read("precision", c.precision);
  run.read("seed", c.seed);
  data.read("path", c.data);
  BIRDIE_CHECK(model.table, source, ": missing [model] table (see configs/model/*.toml)");
  toml::table model_only = *model.table;
  model_only.erase("recompute_blocks");
  c.model = model::model_config_from_toml(model_only, source + " [model]");
  model.read("recompute_blocks", c.recompute_blocks);
  objectives.read("mixture", c.mixture);
  objectives.read("grid", c.grid);
  objectives.read("validation_samples", c.validation_samples);
  objectives.read("candidates", c.candidates);
  objectives.read("critic_iterations", c.critic_iterations);
  objectives.read("policy_lag_steps", c.policy_lag_steps);
  objectives.read("class_floor", c.class_floor);
  objectives.read("evaluation_budget", c.evaluation_budget);
  optimizer.read("lr", c.lr);
  optimizer.read("min_lr_ratio", c.min_lr_ratio);
  optimizer.read("warmup_steps", c.warmup_steps);
  optimizer.read("weight_decay", c.weight_decay);
  optimizer.read("beta1", c.beta1);
  optimizer.read("beta2", c.beta2);
  optimizer.read("eps", c.eps);
  optimizer.read("clip", c.clip);
  optimizer.read("zero", c.zero);
  optimizer.read("bucket_mib", c.bucket_mib);
  batch.read("sequence_length", c.sequence_length);
  batch.read("rows", c.rows);
  batch.read("accumulation", c.accumulation);
  batch.read("min_pack_tokens", c.min_pack_tokens);
  batch.read("workers", c.workers);
  schedule.read("steps", c.steps);
  schedule.read("log_every", c.log_every);
  schedule.read("checkpoint_every", c.checkpoint_every);
  schedule.read("keep_checkpoints", c.keep_checkpoints);
  schedule.read("max_bad_steps", c.max_bad_steps);

  auto require = [&](bool ok, const char* key, const char* rule) {
    BIRDIE_CHECK(ok, source, ": ", key, " ", rule);
  };
  require(c.device == "cpu" || c.device == "cuda", "run.device", "must be \"cpu\" or \"cuda\"");
  require(c.precision == "auto" || c.precision == "fp32" || c.precision == "bf16", "run.precision",
          "must be \"auto\", \"fp32\" or \"bf16\"");
  require(c.lr > 0, "optimizer.lr", "must be positive");
  require(c.min_lr_ratio >= 0 && c.min_lr_ratio <= 1, "optimizer.min_lr_ratio", "must be in [0, 1]");
  require(c.warmup_steps >= 0, "optimizer.warmup_steps", "must not be negative");
  require(c.zero == 0 || c.zero == 1, "optimizer.zero", "must be 0 (replicated optimizer state) or 1 (ZeRO-1)");
  require(c.bucket_mib > 0, "optimizer.bucket_mib", "must be positive (MiB of gradients summed over the ranks at once)");
  require(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1, "optimizer.beta1/beta2", "must be in [0, 1)");
  require(c.sequence_length >= 16, "batch.sequence_length", "must be at least 16");
  require(c.rows >= 1 && c.accumulation >= 1 && c.workers >= 1, "batch.rows/accumulation/workers", "must be ≥ 1");
  require(c.min_pack_tokens >= 0 && c.min_pack_tokens < c.sequence_length, "batch.min_pack_tokens",
          "must be in [0, sequence_length)");
  require(c.steps >= 1, "schedule.steps", "must be ≥ 1");
  require(c.log_every >= 1 && c.checkpoint_every >= 1, "schedule.log_every/checkpoint_every", "must be ≥ 1");
  require(c.max_bad_steps >= 1, "schedule.max_bad_steps", "must be ≥ 1");
  require(c.validation_samples >= 1, "objectives.validation_samples", "must be ≥ 1");
  require(c.candidates >= 1 && c.critic_iterations >= 1, "objectives.candidates/critic_iterations", "must be ≥ 1");
  require(c.policy_lag_steps >= 0, "objectives.policy_lag_steps", "must be ≥ 0 (0: the policy's mixture at once)");
  require(std::isfinite(c.class_floor) && c.class_floor >= 0 && c.class_floor <= 1, "objectives.class_floor",
          "must be a share in [0, 1] (0: no floor)");
  require(std::isfinite(c.evaluation_budget) && c.evaluation_budget >= 0 && c.evaluation_budget <= 1,
          "objectives.evaluation_budget", "must be a share in [0, 1] of the training's compute (0: no limit)");
  require(c.class_floor == 0 || c.mixture == "birdie", "objectives.class_floor",
          "applies to the reward-driven mixture only (objectives.mixture = \"birdie\"); set it to 0 for a fixed "
          "mixture");
  require(c.keep_checkpoints <= 0 || c.keep_checkpoints >= 2, "schedule.keep_checkpoints",
          "must be at least 2, so that there is a checkpoint to fall back to when the newest is damaged (0 keeps all)");
  for (const auto& [key, value] : {std::pair{"optimizer.lr", c.lr}, std::pair{"optimizer.weight_decay", c.weight_decay},
                                   std::pair{"optimizer.eps", c.eps}, std::pair{"optimizer.clip", c.clip},
                                   std::pair{"optimizer.bucket_mib", c.bucket_mib}})
    require(std::isfinite(value), key, "must be a finite number");
  require(c.bucket_mib <= 1 << 20, "optimizer.bucket_mib", "must be at most 1048576 (a TiB)");
  require(static_cast<long double>(c.sequence_length) * c.rows * c.accumulation <= 0x1p40L,
          "batch.sequence_length × rows × accumulation", "must be at most 2^40 tokens per step");
  require(c.steps <= (std::int64_t(1) << 53), "schedule.steps", "must be at most 2^53");
  return c;
}

model::ModelConfig load_model_config(const std::filesystem::path& path) {
  bool model_only = false;
  try {
    const toml::table root = toml::parse_file(path.string());
    model_only = root.size() == 1 && root.contains("model");
  } catch (const toml::parse_error&) {
    // Either reader reports the syntax error with the file and line.
  }
  return model_only ? model::load_model_config_toml(path) : load_run_config(path, {}).model;
}

DType compute_dtype(const std::string& precision, Device device) {
  if (precision == "auto") return device == Device::cuda ? DType::bf16 : DType::f32;
  BIRDIE_CHECK(precision == "fp32" || precision == "bf16", "precision must be \"auto\", \"fp32\" or \"bf16\", got \"",
               precision, "\"");
  return precision == "bf16" ? DType::bf16 : DType::f32;
}

namespace {

// A TOML basic string: quotes, backslashes and control characters escaped, so any path or
// name reads back as it was.
std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += {'\\', c};
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The shortest text that reads back as the same double, always in a float's form: the
// shortest form of a whole number has neither point nor exponent ("1e+20" is longer than
// "100000000000000000000"), and TOML reads that as an integer, which is out of range past
// 2^63 and loses the sign of -0.
std::string toml_number(double value) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  std::string text(buffer, end);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // n: inf, nan
  return text;
}

}  // namespace

std::string run_config_to_toml(const RunConfig& c) {
  std::ostringstream out;
  out << "# effective configuration (from " << toml_string(c.source.string()) << " and --set overrides)\n"
      << "[run]\noutput = " << toml_string(c.output.string()) << "\ndevice = " << toml_string(c.device)
      << "\nprecision = " << toml_string(c.precision) << "\nseed = " << c.seed
      << "\n\n[data]\npath = " << toml_string(c.data.string()) << "\n\n[model]\n" << model::model_config_to_toml(c.model)
      << "recompute_blocks = " << (c.recompute_blocks ? "true" : "false") << "\n\n[objectives]\nmixture = "
      << toml_string(c.mixture) << "\ngrid = " << toml_string(c.grid.string())
      << "\nvalidation_samples = " << c.validation_samples << "\ncandidates = " << c.candidates
      << "\ncritic_iterations = " << c.critic_iterations << "\npolicy_lag_steps = " << c.policy_lag_steps
      << "\nclass_floor = " << toml_number(c.class_floor) << "\nevaluation_budget = " << toml_number(c.evaluation_budget)
      << "\n\n[optimizer]\nlr = " << toml_number(c.lr) << "\nmin_lr_ratio = " << toml_number(c.min_lr_ratio)
      << "\nwarmup_steps = " << c.warmup_steps << "\nweight_decay = " << toml_number(c.weight_decay)
      << "\nbeta1 = " << toml_number(c.beta1) << "\nbeta2 = " << toml_number(c.beta2) << "\neps = " << toml_number(c.eps)
      << "\nclip = " << toml_number(c.clip) << "\nzero = " << c.zero << "\nbucket_mib = " << toml_number(c.bucket_mib)
      << "\n\n[batch]\nsequence_length = " << c.sequence_length << "\nrows = " << c.rows
      << "\naccumulation = " << c.accumulation << "\nmin_pack_tokens = " << c.min_pack_tokens
      << "\nworkers = " << c.workers << "\n\n[schedule]\nsteps = " << c.steps << "\nlog_every = " << c.log_every
      << "\ncheckpoint_every = " << c.checkpoint_every << "\nkeep_checkpoints = " << c.keep_checkpoints
      << "\nmax_bad_steps = " << c.max_bad_steps << "\n";
  return out.str();
}

}  // namespace birdie::training
