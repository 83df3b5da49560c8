#include "training/run_checkpoint.h"

#include <cmath>
#include <cstdio>

#include "bandit/policy_checkpoint.h"
#include "engine/distributed.h"
#include "kernels/reduce.h"
#include "model/checkpoint.h"

namespace birdie::training {

namespace fs = std::filesystem;

namespace {

bool parameters_finite(model::LanguageModel& lm) {
  return std::isfinite(kernels::sum_of_squares(lm.parameters().values()));
}

}  // namespace

void save_checkpoint(Run& run, std::int64_t step, const std::optional<objectives::LoaderPosition>& position) {
  // Sharded optimizer state is gathered to rank 0 (every rank takes part), which alone
  // writes: the same checkpoint as one rank's, resumable on any number of ranks.
  const autograd::OptimizerState optimizer = run.trainer->optimizer().state();
  if (distributed::world().rank != 0) return;
  BIRDIE_CHECK(parameters_finite(*run.lm), "refusing to write a checkpoint at step ", step,
               ": the parameters are not finite");
  model::TrainingState state;
  state.step = step;
  state.rng = RandomState{run.config.seed, 0, 0};
  state.data_position = position.value_or(run.loader->position()).serialize();
  bandit::save_policy(*run.policy, state);
  run.deferred->save(state);
  const fs::path path = model::save_checkpoint(run.config.output / "checkpoints", *run.lm, &optimizer, state,
                                               run.config.keep_checkpoints);
  std::printf("checkpoint: %s\n", path.string().c_str());
}

void save_initial_checkpoint(Run& run) {
  if (run.start_step == 0) save_checkpoint(run, 0);
  else std::printf("init-only: %s already holds step %lld\n", run.config.output.string().c_str(),
                   (long long)run.start_step);
}

}  // namespace birdie::training
