// End to end on the CPU: a tiny two-block Gated SSM LM (bidirectional + causal) built from
// the engine's ops learns the synthetic copy task within a few hundred steps.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "model/gated_ssm/gated_ssm_lm.h"
#include "support/copy_task_training.h"

using namespace birdie;

TEST_CASE("copy task batches follow the packed-row format") {
  data::CopyTaskConfig task;
  task.rows = 4;
  RandomGenerator rng(3);
  const auto batch = data::make_copy_task_batch(task, rng);
  const auto tokens = batch.tokens.to_vector<std::int32_t>(), targets = batch.targets.to_vector<std::int32_t>(),
             reset = batch.reset.to_vector<std::int32_t>();
  for (std::int64_t r = 0; r < task.rows; ++r) {
    CHECK(reset[r * task.row_length] == 1);
    for (std::int64_t t = 0; t + 1 < task.row_length; ++t) {
      const std::int64_t i = r * task.row_length + t;
      // Inside a suffix, each target is the next token (§2).
      if (reset[i] == 2 && reset[i + 1] == 2) CHECK(targets[i] == tokens[i + 1]);
      if (tokens[i] == task.start_generating) CHECK(reset[i] == 2);
      if (reset[i] != 2) CHECK(targets[i] == -1);
    }
  }
}

namespace {
// Trains the copy task for 250 steps with the model computing in `compute` (f32, or bf16
// over fp32 master weights) and checks the loss falls from chance to below 1.0.
void check_learns_to_copy(DType compute) {
  data::CopyTaskConfig task;  // strings of 4-8 symbols from 8; chance loss ln 8 = 2.08
  model::ModelConfig config;
  config.vocab = task.first_symbol + task.symbols;
  config.dim = 64;
  config.state = 128;
  config.layers = 2;
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, 1, compute);
  RandomGenerator rng(1, 1);
  const auto losses = testing::train_on_copy_task(lm, task, rng, 250, 3e-3, 50.0);
  const double last = testing::mean_of_last_10(losses);
  MESSAGE("copy task (", dtype_name(compute), " compute): first loss ", losses.front(), ", mean of the last 10 ", last);
  CHECK(losses.front() > 2.0);
  CHECK(last < 1.0);
}
}  // namespace

TEST_CASE("a tiny Gated SSM LM learns to copy: loss falls from chance to below 1.0 in 250 steps") {
  check_learns_to_copy(DType::f32);
}

TEST_CASE("the same with bf16 compute over fp32 master weights") { check_learns_to_copy(DType::bf16); }
