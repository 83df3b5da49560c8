#include "training/resume.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>

#include "bandit/policy_checkpoint.h"
#include "engine/distributed.h"
#include "model/checkpoint.h"
#include "objectives/mixture.h"

namespace birdie::training {

namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A run continues only on the token ids it was trained on: a data folder prepared again
// (other tokenizer rules, another vocabulary) comes with another tokenizer.
void check_same_tokenizer(const RunConfig& c) {
  const fs::path run_tokenizer = c.output / "tokenizer.model";
  BIRDIE_CHECK(!fs::exists(run_tokenizer) || file_bytes(run_tokenizer) == file_bytes(c.data / "tokenizer.model"),
               c.output.string(), " was trained with the tokenizer ", run_tokenizer.string(), ", not with ",
               (c.data / "tokenizer.model").string(), " (the data folder was prepared again since). Fix: start a "
               "new run in another folder (--set run.output=...), or move ", c.output.string(), " away");
}

}  // namespace

void resume_from_checkpoint(Run& run) {
  const RunConfig& c = run.config;
  const fs::path checkpoints = c.output / "checkpoints";
  const model::CheckpointChoice choice = model::choose_checkpoint(checkpoints);
  for (const auto& [folder, problem] : choice.damaged) {
    if (distributed::world().rank != 0) continue;
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
    check_same_tokenizer(c);
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
}

}  // namespace birdie::training
