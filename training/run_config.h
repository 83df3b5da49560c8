// The configuration of a training run: one TOML file (configs/*.toml) plus command-line
// overrides `--set section.key=value`. Every key is checked: an unknown key, a wrong type
// or an impossible value is an error naming the file, the key and the fix.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/model_config.h"

namespace birdie::training {

struct RunConfig {
  std::filesystem::path source;  // the TOML file it came from

  // [run]
  std::filesystem::path output = "runs/default";  // checkpoints, metrics.jsonl, plot.svg
  std::string device = "cpu";                     // "cpu" or "cuda"
  // "fp32": everything in fp32. "bf16": fp32 master weights, gradients and moments, a
  // bf16 compute copy of the weights and bf16 activations (recurrences, normalization
  // statistics and losses in fp32). "auto": bf16 on cuda, fp32 on cpu.
  std::string precision = "auto";
  std::uint64_t seed = 1;

  // [data]
  std::filesystem::path data = "data_out/fortunes";  // a folder written by prepare_data

  // [model]: see configs/model/*.toml
  model::ModelConfig model;
  bool recompute_blocks = false;

  // [objectives]
  std::string mixture = "birdie";  // "birdie", "ntp", "ul2", "uniform" or a weights file
  std::filesystem::path grid = "configs/objectives/default_grid.toml";
  int validation_samples = 8;
  int candidates = 4096;            // birdie: uniform candidates (as many sharpened ones again)
  int critic_iterations = 200;      // birdie: critic updates per evaluation
  // Steps training goes on with the previous mixture while the policy's evaluation work
  // runs beside it; the new mixture takes effect exactly this many steps after the
  // evaluation (or at the next one). 0: at once, as the reference procedure.
  std::int64_t policy_lag_steps = 0;
  // birdie: every objective class present in the grid gets at least this share of every
  // mixture the policy hands out (bandit/class_floor.h); 0: no floor, as the reference.
  double class_floor = 0;
  // The evaluations' estimated compute (validation losses, and the critic on a CPU run) as
  // a share of the training's at most: a short run of a small model evaluates less often
  // than the paper's schedule scaled to it (bandit/evaluation_budget.h). 0: no limit.
  double evaluation_budget = 0.1;

  // [optimizer]: AdamW, linear warm-up then cosine decay to min_lr_ratio · lr
  double lr = 3e-3;
  double min_lr_ratio = 0.1;
  std::int64_t warmup_steps = 20;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double clip = 1.0;
  int zero = 0;  // 1: ZeRO-1, the optimizer's moments sharded over the ranks (autograd/adamw.h)
  // Gradients summed over the ranks in buckets of this size, each started as soon as the
  // backward pass has finished its blocks (autograd/adamw.h)
  double bucket_mib = 25;

  // [batch]
  int sequence_length = 512;
  int rows = 8;          // rows per micro-batch
  int accumulation = 1;  // micro-batches per optimizer step
  int min_pack_tokens = 256;
  int workers = 2;       // loader threads

  // [schedule]
  std::int64_t steps = 300;
  std::int64_t log_every = 10;
  std::int64_t checkpoint_every = 100;
  int keep_checkpoints = 3;
  int max_bad_steps = 5;  // consecutive non-finite steps before the run stops

  std::int64_t tokens_per_step() const {
    return std::int64_t(sequence_length) * rows * accumulation;
  }
  double learning_rate(std::int64_t step) const;  // step is 1-based
};

// The dtype the model computes in for a precision setting ("auto", "fp32", "bf16") on a
// device; the parameters' master dtype is always f32.
DType compute_dtype(const std::string& precision, Device device);

// Reads `path`, applies the overrides ("section.key=value"; values are TOML: 12, 3e-4,
// true, "text" — a bare word is taken as a string), and validates everything.
RunConfig load_run_config(const std::filesystem::path& path, const std::vector<std::string>& overrides);

// The model of either kind of file: a model configuration (configs/model/*.toml, only a
// [model] table) or a run configuration (configs/*.toml), for the planning tools.
model::ModelConfig load_model_config(const std::filesystem::path& path);

// The effective configuration as TOML (written into the run folder).
std::string run_config_to_toml(const RunConfig& config);

}  // namespace birdie::training
