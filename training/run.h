// A training run (pretrain): what it is asked to do (RunOptions) and everything it needs,
// built and validated before the first step (Run). Read top to bottom, a run is:
//
//   set_up_run (run_setup.h)          the configuration, data, policy, model, optimizer, loader
//     resume_from_checkpoint (resume.h)   with --resume: the newest good checkpoint
//   train (training_loop.h)           the steps, each:
//     the step (trainer.h), its progress line and metrics (step_log.h)
//     an evaluation at the policy's steps (run_evaluation.h)
//     a checkpoint every schedule.checkpoint_every steps (run_checkpoint.h)
//
// Data parallel: `mpirun -np G pretrain ...` (or srun) runs G ranks (engine/distributed.h).
// batch.rows is each rank's share: the loader builds the global batch of G × rows rows
// (the same on every rank: a pure function of seed, batch index and mixture) and rank r
// trains on rows [r·rows, (r+1)·rows), so G ranks train as one rank with G × rows rows.
// Gradients, losses and counts are summed over the ranks; an evaluation's validation sets
// are split over the ranks and their losses gathered, so every rank's policy sees the same
// numbers and chooses the same mixture (checked). Rank 0 alone prints, logs and writes
// checkpoints. On cuda each rank takes its local rank's GPU and the tensors' collectives go
// through NCCL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bandit/evaluation_budget.h"
#include "bandit/mixture_policy.h"
#include "engine/folder_lock.h"
#include "model/language_model.h"
#include "objectives/batch_loader.h"
#include "objectives/objective_grid.h"
#include "objectives/validation_set.h"
#include "training/deferred_policy.h"
#include "training/jsonl_log.h"
#include "training/run_config.h"
#include "training/trainer.h"

namespace birdie::training {

// What pretrain's command line asks of a run.
struct RunOptions {
  std::filesystem::path config;         // the run configuration (TOML)
  std::vector<std::string> overrides;   // --set section.key=value
  bool resume = false;                  // continue from the newest good checkpoint
  std::int64_t stop_after_steps = 0;    // 0: run to the end
  bool init_only = false;               // write the initialized model as checkpoint 0 and stop
};

// Everything a run needs, built (and validated) before the first step.
struct Run {
  FolderLock lock;  // the run folder is this job's (rank 0 holds it for every rank)
  RunConfig config;
  objectives::ObjectiveGrid grid;
  std::unique_ptr<bandit::MixturePolicy> policy;
  std::vector<objectives::ValidationSet> validation;
  std::unique_ptr<model::LanguageModel> lm;
  std::unique_ptr<Trainer> trainer;
  std::unique_ptr<objectives::BatchLoader> loader;
  std::unique_ptr<DeferredPolicy> deferred;  // the policy's work, off the training thread
  bandit::EvaluationPlan plan;               // the evaluations within the run's budget
  std::int64_t start_step = 0;
  // metrics.jsonl and evaluations.jsonl, their lines after start_step dropped and the rest
  // checked (opened by set_up_run, so that a damaged line is a bad input file: exit 2)
  std::unique_ptr<JsonlLog> metrics, evaluations;
};

}  // namespace birdie::training
