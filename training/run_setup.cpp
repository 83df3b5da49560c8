#include "training/run_setup.h"

#include <algorithm>

#include "bandit/mixture_policy.h"
#include "data/token_shard.h"
#include "engine/atomic_file.h"
#include "engine/distributed.h"
#include "model/checkpoint.h"
#include "training/resume.h"
#include "training/run_checks.h"
#include "training/run_logs.h"
#include "training/run_policy.h"
#include "training/training_model.h"

namespace birdie::training {

namespace fs = std::filesystem;

namespace {

// The device the configuration names, visible, and able to carry the ranks' collectives.
Device check_device(const RunConfig& c) {
  const Device device = parse_device(c.device);
  BIRDIE_CHECK(device == Device::cpu || cuda_device_count() > 0, c.source.string(),
               ": run.device = \"cuda\" but no GPU is visible; use --set run.device=cpu");
  const distributed::World& world = distributed::world();
  BIRDIE_CHECK(world.size == 1 || device == Device::cpu || distributed::built_with_nccl(), c.source.string(), ": ",
               world.size, " ranks on run.device = \"cuda\" need NCCL, which this build does not have (it comes "
               "with the CUDA toolkit: rebuild where nccl.h and libnccl are found), or run the ranks on the CPU "
               "(--set run.device=cpu)");
  return device;
}

void set_up_model(Run& run, Device device) {
  const RunConfig& c = run.config;
  run.lm = make_training_model(c.model, device, c.precision, c.seed, c.recompute_blocks);
  run.trainer = std::make_unique<Trainer>(
      *run.lm, autograd::AdamWConfig{c.beta1, c.beta2, c.eps, c.weight_decay, c.clip, c.zero == 1,
                                     std::max<std::int64_t>(1, std::int64_t(c.bucket_mib * (1 << 20) / 4))});
}

void set_up_loader(Run& run, std::shared_ptr<data::ShardTokenSource> train_text) {
  const RunConfig& c = run.config;
  objectives::LoaderOptions loader_options;
  loader_options.shape = {c.rows * distributed::world().size, c.sequence_length, c.min_pack_tokens};  // the global batch
  loader_options.seed = c.seed;
  loader_options.workers = c.workers;
  run.loader = std::make_unique<objectives::BatchLoader>(std::move(train_text),
                                                         bandit::current_objective_mixture(*run.policy), loader_options);
  run.deferred = std::make_unique<DeferredPolicy>(*run.policy, c.policy_lag_steps);
}

// metrics.jsonl and evaluations.jsonl, each line checked.
void open_logs(Run& run) {
  const RunConfig& c = run.config;
  const bool write = distributed::world().rank == 0;
  run.metrics = std::make_unique<JsonlLog>(
      c.output / "metrics.jsonl", run.start_step, write,
      [](const std::string& line, const std::string& where) { (void)parse_metrics_line(line, where); });
  run.evaluations = std::make_unique<JsonlLog>(
      c.output / "evaluations.jsonl", run.start_step, write,
      [](const std::string& line, const std::string& where) { (void)parse_evaluation_line(line, where); });
}

}  // namespace

Run set_up_run(const RunOptions& options) {
  Run run;
  run.config = load_run_config(options.config, options.overrides);
  check_run_against_grid(run.config);
  const RunConfig& c = run.config;
  const Device device = check_device(c);
  const distributed::World& world = distributed::world();
  if (world.rank == 0) run.lock = FolderLock(c.output, "pretrain");
  fs::create_directories(c.output);

  // The policy's configurations (the grid's, or a named mixture's own) give the validation
  // sets, whose size gives how many evaluations the run can afford: the policy is made
  // again with those steps.
  run.grid = objectives::load_objective_grid(c.grid);
  bandit::MixturePolicyConfig policy = policy_config(c);
  run.policy = bandit::make_mixture_policy(policy, run.grid, c.steps, c.seed);
  auto train_text = std::make_shared<data::ShardTokenSource>(
      data::open_split(c.data, "train", static_cast<int>(c.model.vocab)));
  run.validation = run_validation_sets(c, run.policy->configurations(), c.validation_samples, c.seed);
  run.plan = plan_evaluations(c, policy, run.policy->configurations().size(), run.validation, world.size);
  policy.evaluation_steps = run.plan.steps;
  run.policy = bandit::make_mixture_policy(policy, run.grid, c.steps, c.seed);

  set_up_model(run, device);
  set_up_loader(run, std::move(train_text));

  const fs::path checkpoints = c.output / "checkpoints";
  if (options.resume) resume_from_checkpoint(run);
  else if (model::latest_checkpoint(checkpoints))
    throw Error(detail::concat(checkpoints.string(), " already holds checkpoints: pass --resume to continue that "
                               "run, or choose another folder with --set run.output=..."));
  if (!options.init_only) open_logs(run);
  if (world.rank == 0) {
    write_file_atomically(c.output / "config.toml", run_config_to_toml(c));
    // The tokenizer travels with the run, so evaluation finds it beside the checkpoints.
    copy_file_atomically(c.data / "tokenizer.model", c.output / "tokenizer.model");
  }
  return run;
}

}  // namespace birdie::training
