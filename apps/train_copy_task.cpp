// Trains a small model on the synthetic copy task on the CPU and prints the loss falling,
// then the share of copied symbols it gets right on fresh strings: the engine end to end
// (data → model → fused cross-entropy → backward → AdamW) in seconds, and the quickest
// probe of what a model needs to learn to copy (state width, layers, forget-gate start,
// learning rate, string lengths, steps).
//
//   train_copy_task [--steps N] [--seed S] [--dim D] [--state N] [--layers L] [--lr LR]
//                   [--symbols K] [--min-length A] [--max-length B] [--row-length T]
//                   [--forget-init zero|spread] [--architecture gated_ssm|hawk|transformer]
//
// Defaults: two Gated SSM blocks (one bidirectional, one causal), D=64, N=128, strings of
// 4-8 symbols from 8, 16 rows of 64 tokens a step, 400 steps at lr 3e-3 (warm-up 50 steps,
// cosine to a tenth).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/common/command_line.h"
#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "engine/timer.h"
#include "model/language_model.h"

using namespace birdie;

namespace {

struct Options {
  int steps = 400;
  std::uint64_t seed = 1;
  model::ModelConfig model;
  data::CopyTaskConfig task;
  double lr = 3e-3;
};

Options parse(int argc, char** argv) {
  Options o;
  o.model.dim = 64;
  o.model.state = 128;
  o.model.layers = 2;
  apps::CommandLine cli("train_copy_task", "trains a small model on a copy task");
  // A value `read` cannot take is reported naming the flag.
  auto named = [](const std::string& flag, auto read) {
    return [flag, read](const std::string& text) {
      try {
        read(text);
      } catch (const std::exception& e) {
        throw apps::UsageError(flag + ": " + e.what());
      }
    };
  };
  const auto positive_whole = apps::as<std::int32_t>(apps::positive_number);
  cli.option("--steps", o.steps, positive_whole, "N", "training steps (default 400)");
  cli.option("--seed", o.seed, apps::as<std::uint64_t>(apps::positive_number), "S", "seed (default 1)");
  cli.option("--dim", o.model.dim, positive_whole, "D", "model width (default 64)");
  cli.option("--state", o.model.state, positive_whole, "N", "recurrent state width (default 128)");
  cli.option("--layers", o.model.layers, positive_whole, "L", "blocks (default 2)");
  cli.option("--lr", o.lr, apps::positive_number, "LR", "learning rate (default 3e-3)");
  cli.option("--symbols", o.task.symbols, positive_whole, "K", "alphabet size (default 8)");
  cli.option("--min-length", o.task.min_length, positive_whole, "A", "shortest string (default 4)");
  cli.option("--max-length", o.task.max_length, positive_whole, "B", "longest string (default 8)");
  cli.option("--row-length", o.task.row_length, positive_whole, "T", "tokens per row, at least 4 x --max-length (default 64)");
  cli.option("--forget-init", "zero|spread", "the forget gate's initialization",
             named("--forget-init", [&o](const std::string& text) { o.model.forget_init = model::parse_forget_gate_init(text); }));
  cli.option("--architecture", "gated_ssm|hawk|transformer", "the model (default gated_ssm)",
             named("--architecture", [&o](const std::string& text) { o.model.architecture = model::parse_architecture(text); }));
  cli.check([&o] {
    if (o.task.min_length > o.task.max_length) throw apps::UsageError("--min-length must not exceed --max-length");
  });
  cli.parse(argc, argv);
  // Rows hold at least two samples of the longest string, as many rows as keep ~1k tokens a step.
  o.task.row_length = std::max<std::int64_t>(o.task.row_length, 4 * o.task.max_length);
  o.task.rows = std::max<std::int64_t>(1, 1024 / o.task.row_length);
  o.model.vocab = o.task.first_symbol + o.task.symbols;
  if (o.model.architecture != model::Architecture::gated_ssm) {
    o.model.mlp_hidden = 2 * o.model.dim;
    o.model.heads = std::max<std::int64_t>(1, o.model.dim / 32);
  }
  return o;
}

// The share of target symbols whose argmax is right, on a fresh batch.
double copy_accuracy(const model::LanguageModel& lm, const data::CopyTaskConfig& task, RandomGenerator& rng) {
  const autograd::NoGradGuard no_grad;
  const auto batch = data::make_copy_task_batch(task, rng);
  const std::vector<float> logits = lm.logits(batch.tokens, batch.reset).to_vector<float>();
  const std::vector<std::int32_t> targets = batch.targets.to_vector<std::int32_t>();
  const auto vocab = static_cast<std::size_t>(lm.config().vocab);
  std::int64_t right = 0, counted = 0;
  for (std::size_t p = 0; p < targets.size(); ++p) {
    if (targets[p] < 0) continue;
    const float* row = logits.data() + p * vocab;
    right += std::max_element(row, row + vocab) - row == targets[p];
    ++counted;
  }
  return counted > 0 ? double(right) / double(counted) : 0.0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const data::CopyTaskConfig& task = o.task;
  const auto lm = model::make_language_model(o.model, DType::f32, Device::cpu, o.seed);
  autograd::AdamW optimizer(lm->parameters(), {0.9, 0.95, 1e-8, 0.0, 1.0});
  RandomGenerator data_rng(o.seed, /*stream=*/1);

  std::printf("copy task: strings of %d-%d symbols from %d, %lld rows x %lld tokens per step\n",
              task.min_length, task.max_length, task.symbols, (long long)task.rows, (long long)task.row_length);
  std::printf("model: %lld %s blocks (alternately bidirectional and causal), D=%lld N=%lld, forget gates %s, "
              "%lld parameters\n",
              (long long)o.model.layers, std::string(model::architecture_name(o.model.architecture)).c_str(),
              (long long)o.model.dim, (long long)o.model.state,
              std::string(model::forget_gate_init_name(o.model.forget_init)).c_str(),
              (long long)o.model.parameter_count());
  std::printf("chance level: loss %.3f (ln %d), accuracy %.3f\n\n", std::log(double(task.symbols)), task.symbols,
              1.0 / task.symbols);

  Stopwatch clock;
  double tokens_seen = 0;
  for (int step = 1; step <= o.steps; ++step) {
    const auto batch = data::make_copy_task_batch(task, data_rng);
    lm->parameters().zero_grad();
    const auto result = lm->loss(batch.tokens, batch.targets, batch.reset);
    autograd::backward(result.loss);
    const double warmup = std::min(1.0, step / 50.0);
    const double decay = 0.5 * (1 + std::cos(M_PI * step / o.steps));
    const auto report = optimizer.step(o.lr * warmup * std::max(decay, 0.1));
    tokens_seen += double(batch.tokens.numel());
    if (step == 1 || step % 25 == 0 || step == o.steps)
      std::printf("step %4d/%d  loss %.4f  grad-norm %.3f  %.0f tokens/s%s\n", step, o.steps, result.loss.item(),
                  report.grad_norm, tokens_seen / clock.seconds(),
                  report.skipped ? "  (skipped: non-finite gradient)" : "");
  }
  RandomGenerator held_out(o.seed + 1000, /*stream=*/2);
  std::printf("\ndone in %.1f s; copied symbols right on fresh strings: %.3f (chance %.3f)\n", clock.seconds(),
              copy_accuracy(*lm, task, held_out), 1.0 / task.symbols);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_copy_task: %s\n", e.what());
  return 1;
}
