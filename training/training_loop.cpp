#include "training/training_loop.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "engine/distributed.h"
#include "engine/exit_codes.h"
#include "engine/io_error.h"
#include "engine/nvtx.h"
#include "training/duration_text.h"
#include "training/run_checkpoint.h"
#include "training/run_evaluation.h"
#include "training/run_plot.h"
#include "training/step_log.h"
#include "training/stop_signals.h"

namespace birdie::training {

namespace {

// What the run is about to do: the model, the objectives, the evaluations planned.
void print_run_summary(const Run& run) {
  const RunConfig& c = run.config;
  const distributed::World& world = distributed::world();
  std::printf("model: %lld parameters (D=%lld N=%lld layers=%lld, bidirectional %s) on %s, computing in %s\n",
              (long long)c.model.parameter_count(), (long long)c.model.dim, (long long)c.model.state,
              (long long)c.model.layers, std::string(model::bidirectional_layers_name(c.model.bidirectional)).c_str(),
              c.device.c_str(), run.lm->compute_dtype() == DType::bf16 ? "bf16 (fp32 master weights)" : "fp32");
  std::printf("objectives: %s over %zu configurations; %lld tokens per step\n", c.mixture.c_str(),
              run.policy->configurations().size(), (long long)(c.tokens_per_step() * world.size));
  const bandit::EvaluationPlan& plan = run.plan;
  std::printf("evaluations: %zu planned (%lld in the schedule scaled to %lld steps), estimated at %.1f%% of the "
              "training's compute (objectives.evaluation_budget = %g%s)\n",
              run.policy->evaluation_steps().size(), (long long)plan.schedule_evaluations, (long long)c.steps,
              100 * plan.estimated_share, c.evaluation_budget, c.evaluation_budget == 0 ? ": no limit" : "");
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
}

// This rank's rows of the step's global batches, one per micro-batch.
std::vector<objectives::PackedBatch> next_batches(Run& run) {
  BIRDIE_NVTX_RANGE("batches.wait");  // generation runs on the loader's threads
  const RunConfig& c = run.config;
  const distributed::World& world = distributed::world();
  std::vector<objectives::PackedBatch> batches;
  for (int k = 0; k < c.accumulation; ++k) {
    const objectives::PackedBatch global = run.loader->next();
    batches.push_back(world.size == 1 ? global : global.rows_slice(world.rank * c.rows, (world.rank + 1) * c.rows));
  }
  return batches;
}

void print_done(const Run& run, const StepLog& steps, const RunEvaluations& evaluations) {
  const RunConfig& c = run.config;
  const double seconds = steps.seconds();
  std::printf("\ndone: %lld steps, %.0f tokens in %s; last training loss %.4f\n", (long long)c.steps,
              double(c.steps - run.start_step) * double(c.tokens_per_step() * distributed::world().size),
              duration_text(seconds).c_str(), steps.last_loss());
  std::printf("  %lld evaluations took %s of it (%.1f%%)\n", (long long)evaluations.count(),
              duration_text(evaluations.seconds()).c_str(), 100 * evaluations.seconds() / std::max(1e-9, steps.seconds()));
  std::printf("  metrics      %s\n  evaluations  %s\n  plot         %s\n  checkpoints  %s\n",
              run.metrics->path().string().c_str(), run.evaluations->path().string().c_str(),
              (c.output / "plot.svg").string().c_str(), (c.output / "checkpoints").string().c_str());
}

}  // namespace

int train(Run& run, std::int64_t stop_after_steps) {
  const RunConfig& c = run.config;
  print_run_summary(run);
  RunEvaluations evaluations(run);
  install_stop_handlers();
  // A step's loss, gradient norm and skip come back after it was queued (on a GPU while
  // the next step runs, training/trainer.h): they are recorded in step order when they
  // arrive.
  StepLog steps(run);
  std::int64_t saved_step = run.start_step;  // the newest checkpoint's step
  for (std::int64_t step = run.start_step + 1; step <= c.steps; ++step) {
    const objectives::LoaderPosition step_start = run.loader->position();
    std::vector<objectives::PackedBatch> batches;
    try {
      batches = next_batches(run);
    } catch (const IoError&) {
      // The data failed (a shard truncated or unreadable): nothing of this step was queued,
      // so the weights are those of the step before, which a checkpoint keeps before the
      // error ends the run (exit code 4). One process only: with several ranks the others
      // may be inside a collective, and the newest checkpoint stands.
      if (distributed::world().size == 1 && saved_step < step - 1) {
        std::printf("the data failed at step %lld: keeping step %lld in a checkpoint before stopping\n",
                    (long long)step, (long long)(step - 1));
        std::fflush(stdout);
        if (steps.record(run.trainer->finished_steps(true)) == 0) {
          evaluations.settle();
          save_checkpoint(run, step - 1, step_start);
        }
      }
      throw;
    }
    run.trainer->step(step, batches, c.learning_rate(step));
    if (const int code = steps.record(run.trainer->finished_steps())) return code;
    evaluations.after_step(step);
    const bool interrupted = distributed::any_rank(stop_requested());  // all ranks stop at one step
    const bool job_done = stop_after_steps > 0 && step - run.start_step >= stop_after_steps && step < c.steps;
    if (step % c.checkpoint_every == 0 || step == c.steps || interrupted || job_done) {
      // Every queued step's result first: a checkpoint follows only the steps it holds,
      // and none after max_bad_steps skipped ones.
      if (const int code = steps.record(run.trainer->finished_steps(true))) return code;
      evaluations.settle();
      save_checkpoint(run, step);
      saved_step = step;
    }
    if (interrupted || job_done) {
      std::printf("stopped at step %lld of %lld; continue with --resume\n", (long long)step, (long long)c.steps);
      return interrupted ? exit_interrupted : exit_done;
    }
  }
  if (distributed::world().rank == 0) write_run_plot(run);
  print_done(run, steps, evaluations);
  return exit_done;
}

}  // namespace birdie::training
