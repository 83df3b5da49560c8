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
// Data parallel: `mpirun -np G pretrain ...` (or srun) runs G ranks (training/run.h). Rank
// 0 alone prints, logs and writes checkpoints; an error on any rank ends the whole job,
// naming the rank. The run itself is training/: set_up_run, then train.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/common/command_line.h"
#include "engine/distributed.h"
#include "engine/exit_codes.h"
#include "training/run_checkpoint.h"
#include "training/run_setup.h"
#include "training/training_loop.h"

using namespace birdie;

namespace {

training::RunOptions parse_arguments(int argc, char** argv) {
  training::RunOptions a;
  apps::CommandLine cli("pretrain", "trains a Gated SSM LM with Birdie");
  cli.option("--config", "FILE", "the run configuration (required; e.g. configs/tiny-cpu.toml)",
             [&a](const std::string& text) { a.config = text; });
  cli.repeated("--set", "section.key=value", "overrides one key of the configuration (repeatable)",
               [&a](const std::string& text) { a.overrides.push_back(text); });
  cli.flag("--resume", a.resume, "continue from the run folder's newest good checkpoint");
  cli.option("--stop-after-steps", "N", "stop after N steps of this job, with a checkpoint", [&a](const std::string& text) {
    char* end = nullptr;
    a.stop_after_steps = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || a.stop_after_steps < 1)
      throw apps::UsageError("--stop-after-steps needs a positive whole number");
  });
  cli.flag("--init-only", a.init_only, "write the initialized model as checkpoint 0 and stop");
  cli.footer("  e.g. pretrain --config configs/tiny-cpu.toml --set schedule.steps=50");
  cli.check([&a] {
    if (a.config.empty()) throw apps::UsageError("--config is required");
  });
  cli.parse(argc, argv);
  return a;
}

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

}  // namespace

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
  const training::RunOptions options = parse_arguments(argc, argv);
  training::Run run;
  try {
    run = training::set_up_run(options);
  } catch (const std::exception& e) {
    return fail(exit_bad_input, e);
  }
  try {
    if (!options.init_only) return training::train(run, options.stop_after_steps);
    training::save_initial_checkpoint(run);
    return exit_done;
  } catch (const std::exception& e) {
    return fail(exit_error, e);
  }
}
