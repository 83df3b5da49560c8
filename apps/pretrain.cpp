// pretrain: trains a Gated SSM LM with the Birdie objective mixture (or a fixed one).
//
//   pretrain --config FILE [--set section.key=value ...] [--resume] [--stop-after-steps N]
//            [--init-only]
//
// --stop-after-steps N trains N steps in this invocation, writes a checkpoint and stops
// (exit 0), for runs cut into jobs of bounded length; --resume continues them exactly.
// --init-only writes the initialized model as checkpoint 0 and stops (an untrained
// baseline that evaluators read like any run).
//
// The run folder ([run] output) receives config.toml (the effective configuration),
// checkpoints/, metrics.jsonl (one line per logged step), evaluations.jsonl (one line per
// evaluation: losses, rewards, mixture, exploration), plot.svg (losses and the mixture's
// class probabilities, refreshed at every evaluation) and tokenizer.model (a copy).
// Exit codes (engine/exit_codes.h): 0 done; 2 bad configuration or input files, or the
// run folder in use by another job; 3 stopped after too many non-finite steps; 4 a full
// disk or an I/O error; 130 stopped by SIGINT/SIGTERM after writing a checkpoint; 1 other errors.
//
// Data parallel: `mpirun -np G pretrain ...` (or srun) runs G ranks (engine/distributed.h).
// batch.rows is each rank's share: the loader builds the global batch of G × rows rows
// (the same on every rank: a pure function of seed, batch index and mixture) and rank r
// trains on rows [r·rows, (r+1)·rows), so G ranks train as one rank with G × rows rows.
// Gradients, losses and counts are summed over the ranks; an evaluation's validation sets
// are split over the ranks and their losses gathered, so every rank's policy sees the same
// numbers and chooses the same mixture (checked). Rank 0 alone prints, logs and writes
// checkpoints; an error on any rank ends the whole job, naming the rank. On cuda each rank
// takes its local rank's GPU and the tensors' collectives go through NCCL.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/common/deferred_policy.h"
#include "apps/common/jsonl_log.h"
#include "apps/common/run_checks.h"
#include "apps/common/run_config.h"
#include "apps/common/run_logs.h"
#include "apps/common/signals.h"
#include "apps/common/svg_plot.h"
#include "apps/common/trainer.h"
#include "apps/common/validation_losses.h"
#include "bandit/evaluation_budget.h"
#include "bandit/evaluation_record.h"
#include "bandit/mixture_policy.h"
#include "bandit/policy_checkpoint.h"
#include "data/token_shard.h"
#include "engine/distributed.h"
#include "engine/exit_codes.h"
#include "engine/fingerprint.h"
#include "engine/folder_lock.h"
#include "engine/nvtx.h"
#include "engine/timer.h"
#include "kernels/reduce.h"
#include "model/checkpoint.h"
#include "objectives/batch_loader.h"
#include "objectives/validation_set.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Arguments {
  fs::path config;
  std::vector<std::string> overrides;
  bool resume = false;
  std::int64_t stop_after_steps = 0;  // 0: run to the end
  bool init_only = false;             // write the initialized model as checkpoint 0 and stop
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "pretrain: %s\n"
               "usage: pretrain --config FILE [--set section.key=value ...] [--resume] [--stop-after-steps N]\n"
               "                [--init-only]\n"
               "  e.g. pretrain --config configs/tiny-cpu.toml --set schedule.steps=50\n",
               problem.c_str());
  std::exit(2);
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("trains a Gated SSM LM with Birdie");
    else if (arg == "--resume") a.resume = true;
    else if (arg == "--init-only") a.init_only = true;
    else if ((arg == "--config" || arg == "--set" || arg == "--stop-after-steps") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--config") a.config = value;
      else if (arg == "--set") a.overrides.push_back(value);
      else {
        char* end = nullptr;
        a.stop_after_steps = std::strtoll(value.c_str(), &end, 10);
        if (*end != '\0' || a.stop_after_steps < 1) usage("--stop-after-steps needs a positive whole number");
      }
    } else usage("unknown or incomplete argument '" + arg + "'");
  }
  if (a.config.empty()) usage("--config is required");
  return a;
}

// Everything a run needs, built (and validated) before the first step.
struct Run {
  FolderLock lock;  // the run folder is this job's (rank 0 holds it for every rank)
  apps::RunConfig config;
  objectives::ObjectiveGrid grid;
  std::unique_ptr<bandit::MixturePolicy> policy;
  std::vector<objectives::ValidationSet> validation;
  std::unique_ptr<model::LanguageModel> lm;
  std::unique_ptr<apps::Trainer> trainer;
  std::unique_ptr<objectives::BatchLoader> loader;
  std::unique_ptr<apps::DeferredPolicy> deferred;  // the policy's work, off the training thread
  bandit::EvaluationPlan plan;                     // the evaluations within the run's budget
  std::int64_t start_step = 0;
  // metrics.jsonl and evaluations.jsonl, their lines after start_step dropped and the rest
  // checked (opened by set_up, so that a damaged line is a bad input file: exit 2)
  std::unique_ptr<apps::JsonlLog> metrics, evaluations;
};

// The evaluations this run can afford within objectives.evaluation_budget
// (bandit/evaluation_budget.h): a training step over the global batch, one evaluation's
// validation passes, and the critic's work where it shares the training's processor.
bandit::EvaluationPlan plan_evaluations(const apps::RunConfig& c, const bandit::MixturePolicyConfig& policy,
                                        std::size_t configurations,
                                        const std::vector<objectives::ValidationSet>& validation, int world_size) {
  const double parameters = double(c.model.parameter_count());
  double validation_tokens = 0;
  for (const auto& set : validation) validation_tokens += double(set.rows.rows) * double(set.rows.length);
  bandit::EvaluationCosts costs;
  costs.training_step_flops = 6 * parameters * double(c.tokens_per_step() * world_size);
  costs.validation_flops = 2 * parameters * validation_tokens;
  if (c.device == "cpu") bandit::add_policy_costs(policy, std::int64_t(configurations), costs);
  return bandit::plan_evaluations(c.steps, c.evaluation_budget, costs);
}

bandit::MixturePolicyConfig policy_config(const apps::RunConfig& c) {
  bandit::MixturePolicyConfig p;
  const bool named = c.mixture == "birdie" || c.mixture == "ntp" || c.mixture == "ul2" || c.mixture == "uniform";
  p.kind = named ? c.mixture : "fixed";
  if (!named) p.weights_file = c.mixture;
  p.uniform_candidates = p.sharpened_candidates = c.candidates;
  p.training.iterations = c.critic_iterations;
  p.class_floor = c.class_floor;
  return p;
}

Run set_up(const Arguments& arguments) {
  Run run;
  run.config = apps::load_run_config(arguments.config, arguments.overrides);
  apps::check_run_against_grid(run.config);
  const apps::RunConfig& c = run.config;
  const Device device = parse_device(c.device);
  BIRDIE_CHECK(device == Device::cpu || cuda_device_count() > 0, c.source.string(),
               ": run.device = \"cuda\" but no GPU is visible; use --set run.device=cpu");
  const distributed::World& world = distributed::world();
  BIRDIE_CHECK(world.size == 1 || device == Device::cpu || distributed::built_with_nccl(), c.source.string(), ": ",
               world.size, " ranks on run.device = \"cuda\" need NCCL, which this build does not have (it comes "
               "with the CUDA toolkit: rebuild where nccl.h and libnccl are found), or run the ranks on the CPU "
               "(--set run.device=cpu)");
  if (world.rank == 0) run.lock = FolderLock(c.output, "pretrain");
  fs::create_directories(c.output);

  run.grid = objectives::load_objective_grid(c.grid);
  bandit::MixturePolicyConfig policy = policy_config(c);
  // The policy's configurations (the grid's, or a named mixture's own) give the validation
  // sets, whose size gives how many evaluations the run can afford: the policy is made
  // again with those steps.
  run.policy = bandit::make_mixture_policy(policy, run.grid, c.steps, c.seed);
  auto train_text = std::make_shared<data::ShardTokenSource>(
      data::open_split(c.data, "train", static_cast<int>(c.model.vocab)));
  const data::ShardTokenSource validation_text =
      data::open_split(c.data, "validation", static_cast<int>(c.model.vocab));
  run.validation = objectives::build_validation_sets(validation_text, run.policy->configurations(), c.sequence_length,
                                                     c.min_pack_tokens, c.validation_samples, c.seed);
  run.plan = plan_evaluations(c, policy, run.policy->configurations().size(), run.validation, world.size);
  policy.evaluation_steps = run.plan.steps;
  run.policy = bandit::make_mixture_policy(policy, run.grid, c.steps, c.seed);

  run.lm = model::make_language_model(c.model, DType::f32, device, c.seed,
                                                apps::compute_dtype(c.precision, device));
  run.lm->set_recompute_blocks(c.recompute_blocks);
  run.trainer = std::make_unique<apps::Trainer>(
      *run.lm, autograd::AdamWConfig{c.beta1, c.beta2, c.eps, c.weight_decay, c.clip, c.zero == 1,
                                     std::max<std::int64_t>(1, std::int64_t(c.bucket_mib * (1 << 20) / 4))});
  objectives::LoaderOptions loader_options;
  loader_options.shape = {c.rows * world.size, c.sequence_length, c.min_pack_tokens};  // the global batch
  loader_options.seed = c.seed;
  loader_options.workers = c.workers;
  run.loader = std::make_unique<objectives::BatchLoader>(train_text, bandit::current_objective_mixture(*run.policy),
                                                         loader_options);
  run.deferred = std::make_unique<apps::DeferredPolicy>(*run.policy, c.policy_lag_steps);

  const fs::path checkpoints = c.output / "checkpoints";
  if (arguments.resume) {
    // The newest good checkpoint. A damaged or incomplete newer one is named and set aside
    // (step_N.damaged: kept, no longer counted by retention); none good: an error listing
    // each one's problem (exit 2), and nothing is moved.
    const model::CheckpointChoice choice = model::choose_checkpoint(checkpoints);
    for (const auto& [folder, problem] : choice.damaged) {
      if (world.rank != 0) continue;
      const fs::path kept = model::set_aside_checkpoint(folder);
      std::fprintf(stderr,
                   "pretrain: warning: checkpoint %s is damaged or incomplete: %s. Falling back to an earlier "
                   "checkpoint; the damaged one is kept as %s\n",
                   folder.string().c_str(), problem.c_str(), kept.string().c_str());
    }
    const std::optional<fs::path> latest = choice.checkpoint;
    if (!latest) {
      std::printf("resume: no checkpoint in %s yet, starting from step 0\n", checkpoints.string().c_str());
    } else {
      // A run continues only on the token ids it was trained on: a data folder prepared
      // again (other tokenizer rules, another vocabulary) comes with another tokenizer.
      const fs::path run_tokenizer = c.output / "tokenizer.model";
      BIRDIE_CHECK(!fs::exists(run_tokenizer) || file_bytes(run_tokenizer) == file_bytes(c.data / "tokenizer.model"),
                   c.output.string(), " was trained with the tokenizer ", run_tokenizer.string(), ", not with ",
                   (c.data / "tokenizer.model").string(), " (the data folder was prepared again since). Fix: start a "
                   "new run in another folder (--set run.output=...), or move ", c.output.string(), " away");
      const model::TrainingState state = model::load_checkpoint(*latest, *run.lm, &run.trainer->optimizer());
      bandit::restore_policy(*run.policy, state);
      run.deferred->restore(state);
      run.loader->restore(objectives::LoaderPosition::parse(state.data_position));
      run.loader->set_mixture(
          objectives::make_mixture("policy", run.policy->configurations(), run.deferred->mixture_in_effect()));
      run.start_step = state.step;
      std::printf("resume: continuing from %s (step %lld)\n", latest->string().c_str(), (long long)state.step);
    }
    // Every rank must continue from the same step (a rank that read a checkpoint another
    // found damaged would train on other weights).
    distributed::check_same_on_all_ranks(static_cast<std::uint64_t>(run.start_step), "the step resumed from");
  } else if (model::latest_checkpoint(checkpoints)) {
    throw Error(detail::concat(checkpoints.string(), " already holds checkpoints: pass --resume to continue that "
                               "run, or choose another folder with --set run.output=..."));
  }
  if (!arguments.init_only) {
    run.metrics = std::make_unique<apps::JsonlLog>(
        c.output / "metrics.jsonl", run.start_step, world.rank == 0,
        [](const std::string& line, const std::string& where) { (void)apps::parse_metrics_line(line, where); });
    run.evaluations = std::make_unique<apps::JsonlLog>(
        c.output / "evaluations.jsonl", run.start_step, world.rank == 0,
        [](const std::string& line, const std::string& where) { (void)apps::parse_evaluation_line(line, where); });
  }
  if (world.rank == 0) {
    model::write_file_atomically(c.output / "config.toml", apps::run_config_to_toml(c));
    // The tokenizer travels with the run, so evaluation finds it beside the checkpoints.
    fs::copy_file(c.data / "tokenizer.model", c.output / "tokenizer.model", fs::copy_options::overwrite_existing);
  }
  return run;
}

bool parameters_finite(model::LanguageModel& lm) {
  return std::isfinite(kernels::sum_of_squares(lm.parameters().values()));
}

void save(Run& run, std::int64_t step) {
  // Sharded optimizer state is gathered to rank 0 (every rank takes part), which alone
  // writes: the same checkpoint as one rank's, resumable on any number of ranks.
  const autograd::OptimizerState optimizer = run.trainer->optimizer().state();
  if (distributed::world().rank != 0) return;
  BIRDIE_CHECK(parameters_finite(*run.lm), "refusing to write a checkpoint at step ", step,
               ": the parameters are not finite");
  model::TrainingState state;
  state.step = step;
  state.rng = RandomState{run.config.seed, 0, 0};
  state.data_position = run.loader->position().serialize();
  bandit::save_policy(*run.policy, state);
  run.deferred->save(state);
  const fs::path path = model::save_checkpoint(run.config.output / "checkpoints", *run.lm, &optimizer, state,
                                               run.config.keep_checkpoints);
  std::printf("checkpoint: %s\n", path.string().c_str());
}

// Per-class means of per-configuration values (losses or weights), in class order.
std::map<std::string, double> by_class(const std::vector<objectives::ObjectiveConfig>& configs,
                                       const std::vector<double>& values, bool mean) {
  std::map<std::string, double> sum, count;
  for (std::size_t i = 0; i < configs.size() && i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    const std::string name(objectives::class_name(configs[i].objective_class()));
    sum[name] += values[i];
    count[name] += 1;
  }
  if (mean)
    for (auto& [name, total] : sum) total /= count[name];
  return sum;
}

void write_plot(const Run& run) {
  apps::Chart losses{"Loss", "step", "cross-entropy", {{"train (per token)", {}}, {"validation (mean of configs)", {}}}};
  apps::Chart mixture{"Mixture by objective class", "step", "probability", {}};
  mixture.y_range = {{0.0, 1.0}};
  std::map<std::string, apps::PlotSeries> classes;
  const auto where = [](const apps::JsonlLog& log, std::size_t i) { return log.path().string() + ":" + std::to_string(i + 1); };
  for (std::size_t i = 0; i < run.metrics->lines().size(); ++i) {
    const apps::MetricsLine m = apps::parse_metrics_line(run.metrics->lines()[i], where(*run.metrics, i));
    if (m.loss) losses.series[0].points.emplace_back(double(m.step), *m.loss);
  }
  for (std::size_t i = 0; i < run.evaluations->lines().size(); ++i) {
    const apps::EvaluationLine e = apps::parse_evaluation_line(run.evaluations->lines()[i], where(*run.evaluations, i));
    if (e.mean_loss) losses.series[1].points.emplace_back(double(e.step), *e.mean_loss);
    for (const auto& [name, p] : e.mixture_by_class) {
      classes[name].name = name;
      classes[name].points.emplace_back(double(e.step), p);
    }
  }
  for (auto& [name, series] : classes) mixture.series.push_back(series);
  apps::write_svg_charts(run.config.output / "plot.svg", {losses, mixture});
}

std::string format_duration(double seconds) {
  char buffer[32];
  const long s = std::lround(std::max(0.0, seconds));
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buffer;
}

int train(Run& run, std::int64_t stop_after_steps) {
  const apps::RunConfig& c = run.config;
  const distributed::World& world = distributed::world();
  apps::JsonlLog& metrics = *run.metrics;
  apps::JsonlLog& evaluations = *run.evaluations;
  const auto& eval_steps = run.policy->evaluation_steps();
  const double params = double(c.model.parameter_count());
  std::printf("model: %lld parameters (D=%lld N=%lld layers=%lld, bidirectional %s) on %s, computing in %s\n",
              (long long)c.model.parameter_count(), (long long)c.model.dim, (long long)c.model.state,
              (long long)c.model.layers, std::string(model::bidirectional_layers_name(c.model.bidirectional)).c_str(),
              c.device.c_str(), run.lm->compute_dtype() == DType::bf16 ? "bf16 (fp32 master weights)" : "fp32");
  std::printf("objectives: %s over %zu configurations; %lld tokens per step\n", c.mixture.c_str(),
              run.policy->configurations().size(), (long long)(c.tokens_per_step() * world.size));
  const bandit::EvaluationPlan& plan = run.plan;
  std::printf("evaluations: %zu planned (%lld in the schedule scaled to %lld steps), estimated at %.1f%% of the "
              "training's compute (objectives.evaluation_budget = %g%s)\n",
              eval_steps.size(), (long long)plan.schedule_evaluations, (long long)c.steps, 100 * plan.estimated_share,
              c.evaluation_budget, c.evaluation_budget == 0 ? ": no limit" : "");
  if (plan.over_budget)
    std::printf("  warning: the run is too short for %lld evaluations, the fewest planned, to stay within the budget; "
                "train longer or on more rows per step\n",
                (long long)bandit::minimum_planned_evaluations);
  if (c.device == "cuda" && c.mixture == "birdie" && c.policy_lag_steps == 0)
    std::printf("  note: the critic runs on the host and training waits for it at every evaluation; "
                "objectives.policy_lag_steps > 0 runs it beside training\n");
  if (world.size > 1)
    std::printf("data parallel: %d ranks (%d on this machine), %lld rows each\n", world.size, world.local_size,
                (long long)c.rows);

  // What this invocation's evaluations held training up: validation, and the policy's work
  // (or, beside training, the waits for it).
  std::int64_t evaluations_made = 0;
  double evaluation_seconds = 0;
  // An evaluation's record goes to the log once its policy work is done (at its effect
  // step, or at a checkpoint before it); the loader switches mixtures at the effect step.
  const auto handle = [&](const apps::DeferredPolicy::Update& update) {
    if (update.switch_mixture) {
      const std::vector<double> mixture = run.policy->current_mixture();
      distributed::check_same_on_all_ranks(fnv1a(mixture.data(), mixture.size() * sizeof(double)), "the mixture");
      run.loader->set_mixture(bandit::current_objective_mixture(*run.policy));
    }
    if (!update.record) return;
    const bandit::EvaluationRecord& record = *update.record;
    ++evaluations_made;
    evaluation_seconds += record.validation_seconds + (c.policy_lag_steps > 0 ? record.wait_seconds : record.seconds);
    evaluations.append(bandit::to_json_line(record, run.policy->configurations()));
    std::printf("evaluation @ %lld (%s%s):", (long long)record.step, record.decision.c_str(),
                record.explored ? ", explored" : "");
    const auto class_losses = by_class(run.policy->configurations(), record.losses, true);
    const auto class_mass = by_class(run.policy->configurations(), record.mixture, false);
    for (const auto& [name, loss] : class_losses)
      std::printf(" %s %.3f (p=%.2f)", name.c_str(), loss, class_mass.count(name) ? class_mass.at(name) : 0.0);
    std::printf(" [validation %.2f s, critic %.2f s, scoring %.2f s", record.validation_seconds, record.critic_seconds,
                record.scoring_seconds);
    if (c.policy_lag_steps > 0)
      std::printf("; policy %.2f s beside training, waited %.2f s", record.seconds, record.wait_seconds);
    std::printf("]\n");
    for (const auto& w : record.warnings) std::printf("  warning: %s\n", w.c_str());
    if (world.rank == 0) write_plot(run);
  };

  apps::install_stop_handlers();
  Stopwatch clock;
  double tokens_since = 0, time_mark = 0;
  int bad_streak = 0;
  double last_loss = NAN;
  // A step's loss, gradient norm and skip come back after it was queued (on a GPU while
  // the next step runs, apps/common/trainer.h): its log line, its skip and the stop after
  // max_bad_steps are handled here, in step order, when they arrive. Returns 3 when the
  // run must stop.
  const auto report = [&](const std::vector<apps::StepResult>& results) {
    for (const apps::StepResult& r : results) {
      const std::int64_t step = r.step;
      tokens_since += double(r.tokens);
      bad_streak = r.skipped ? bad_streak + 1 : 0;
      if (!r.skipped) last_loss = r.loss;
      if (r.skipped) {
        std::printf("step %lld: non-finite loss or gradient (loss %g, norm %g): skipped (%d in a row)\n",
                    (long long)step, r.loss, r.grad_norm, bad_streak);
        metrics.append(nlohmann::json{{"step", step}, {"skipped", true}}.dump());
        if (bad_streak >= c.max_bad_steps) {
          std::fprintf(stderr,
                       "pretrain: %d non-finite steps in a row at step %lld: stopping. The last checkpoint is "
                       "intact; lower optimizer.lr or raise optimizer.warmup_steps and --resume.\n",
                       bad_streak, (long long)step);
          return 3;
        }
      }
      if (!r.skipped && (step % c.log_every == 0 || step == run.start_step + 1 || step == c.steps)) {
        const double now = clock.seconds();
        const double tokens_per_s = tokens_since / std::max(1e-9, now - time_mark);
        const double steps_done = double(step - run.start_step);
        const double eta = now / steps_done * double(c.steps - step);
        char mfu[48] = "";
        if (c.device == "cuda")
          std::snprintf(mfu, sizeof mfu, "  MFU %.1f%%", 100.0 * 6.0 * params * tokens_per_s / 989e12);
        std::printf("step %lld/%lld  loss %.4f  lr %.2e  grad-norm %.3f  %.0f tokens/s%s  ETA %s\n", (long long)step,
                    (long long)c.steps, r.loss, r.lr, r.grad_norm, tokens_per_s, mfu, format_duration(eta).c_str());
        std::fflush(stdout);
        metrics.append(nlohmann::json{{"step", step}, {"loss", r.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm},
                                      {"tokens_per_s", tokens_per_s}, {"elapsed_s", now}}
                           .dump());
        tokens_since = 0;
        time_mark = now;
      }
    }
    return 0;
  };
  for (std::int64_t step = run.start_step + 1; step <= c.steps; ++step) {
    std::vector<objectives::PackedBatch> batches;
    {
      BIRDIE_NVTX_RANGE("batches.wait");  // generation runs on the loader's threads
      for (int k = 0; k < c.accumulation; ++k) {
        const objectives::PackedBatch global = run.loader->next();
        batches.push_back(world.size == 1 ? global
                                          : global.rows_slice(world.rank * c.rows, (world.rank + 1) * c.rows));
      }
    }
    run.trainer->step(step, batches, c.learning_rate(step));
    if (const int code = report(run.trainer->finished_steps())) return code;
    handle(run.deferred->after_step(step));  // an earlier evaluation's mixture taking effect now
    if (const auto next = std::lower_bound(eval_steps.begin(), eval_steps.end(), step);
        next != eval_steps.end() && *next == step) {
      BIRDIE_NVTX_RANGE("evaluation");
      Stopwatch validation_clock;
      std::vector<double> losses = apps::validation_losses(*run.lm, run.validation, int(c.rows));
      run.deferred->start(step, std::move(losses), next + 1 != eval_steps.end() ? *(next + 1) : c.steps,
                          validation_clock.seconds());
      handle(run.deferred->after_step(step));  // policy_lag_steps = 0: at once
    }
    const bool interrupted = distributed::any_rank(apps::stop_requested());  // all ranks stop at one step
    const bool job_done = stop_after_steps > 0 && step - run.start_step >= stop_after_steps && step < c.steps;
    if (step % c.checkpoint_every == 0 || step == c.steps || interrupted || job_done) {
      // Every queued step's result first: a checkpoint follows only the steps it holds,
      // and none after max_bad_steps skipped ones.
      if (const int code = report(run.trainer->finished_steps(true))) return code;
      handle({run.deferred->settle(), false});  // a checkpoint holds no running evaluation
      save(run, step);
    }
    if (interrupted || job_done) {
      std::printf("stopped at step %lld of %lld; continue with --resume\n", (long long)step, (long long)c.steps);
      return interrupted ? 130 : 0;
    }
  }
  if (world.rank == 0) write_plot(run);
  std::printf("\ndone: %lld steps, %.0f tokens in %s; last training loss %.4f\n", (long long)c.steps,
              double(c.steps - run.start_step) * double(c.tokens_per_step() * world.size),
              format_duration(clock.seconds()).c_str(),
              last_loss);
  std::printf("  %lld evaluations took %s of it (%.1f%%)\n", (long long)evaluations_made,
              format_duration(evaluation_seconds).c_str(), 100 * evaluation_seconds / std::max(1e-9, clock.seconds()));
  std::printf("  metrics      %s\n  evaluations  %s\n  plot         %s\n  checkpoints  %s\n",
              metrics.path().string().c_str(), evaluations.path().string().c_str(),
              (c.output / "plot.svg").string().c_str(), (c.output / "checkpoints").string().c_str());
  return 0;
}

}  // namespace

// An error on one rank of several ends every rank (a rank left waiting in a collective
// would hang), naming the rank that failed.
int fail(int code, const std::exception& e) {
  code = exit_code_for(e, code);  // a full disk or an I/O error: 4, whatever the stage
  const distributed::World& world = distributed::world();
  if (world.size == 1) {
    std::fprintf(stderr, "pretrain: %s\n", e.what());
    return code;
  }
  std::fprintf(stderr, "pretrain (rank %d of %d): %s\n", world.rank, world.size, e.what());
  std::fflush(stderr);
  distributed::abort_job(code);
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress reaches a log file or pipe line by line
  try {
    // Only rank 0 prints progress; every rank prints its errors.
    if (distributed::init(argc, argv).rank != 0 && !std::freopen("/dev/null", "w", stdout))
      throw Error("cannot silence the progress output of this rank");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pretrain: %s\n", e.what());
    return 2;
  }
  const Arguments arguments = parse_arguments(argc, argv);
  Run run;
  try {
    run = set_up(arguments);
  } catch (const std::exception& e) {
    return fail(2, e);
  }
  try {
    if (arguments.init_only) {
      // An untrained baseline that is still an ordinary run folder (the experiment's
      // "scratch" arm): checkpoint 0 holds the initial weights.
      if (run.start_step == 0) save(run, 0);
      else std::printf("init-only: %s already holds step %lld\n", run.config.output.string().c_str(),
                       (long long)run.start_step);
      return 0;
    }
    return train(run, arguments.stop_after_steps);
  } catch (const std::exception& e) {
    return fail(1, e);
  }
}
