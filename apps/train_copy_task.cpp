// Trains a tiny two-block Gated SSM (one bidirectional block, one causal) on the
// synthetic copy task on the CPU and prints the loss falling: the engine end to end
// (data → model → fused cross-entropy → backward → AdamW) in a few seconds.
//
//   train_copy_task [--steps N] [--seed S] [--dim D] [--state N] [--threads T]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/tasks/copy_task.h"
#include "engine/timer.h"
#include "model/gated_ssm/gated_ssm_lm.h"

using namespace birdie;

namespace {

struct Options {
  int steps = 400;
  std::uint64_t seed = 1;
  std::int64_t dim = 64;
  std::int64_t state = 128;
  double lr = 3e-3;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr, "train_copy_task: %s\nusage: train_copy_task [--steps N] [--seed S] "
               "[--dim D] [--state N] [--lr LR]\n", problem);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("trains a tiny Gated SSM on a copy task");
    if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
    const char* value = argv[++i];
    char* end = nullptr;
    const double number = std::strtod(value, &end);
    if (*end != '\0' || !(number > 0)) usage((flag + " needs a positive number, got '" + value + "'").c_str());
    if (flag == "--steps") o.steps = int(number);
    else if (flag == "--seed") o.seed = std::uint64_t(number);
    else if (flag == "--dim") o.dim = std::int64_t(number);
    else if (flag == "--state") o.state = std::int64_t(number);
    else if (flag == "--lr") o.lr = number;
    else usage(("unknown option " + flag).c_str());
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  data::CopyTaskConfig task;
  model::ModelConfig config;
  config.vocab = task.first_symbol + task.symbols;
  config.dim = options.dim;
  config.state = options.state;
  config.layers = 2;
  model::GatedSsmLm lm(config, DType::f32, Device::cpu, options.seed);
  autograd::AdamW optimizer(lm.parameters(), {0.9, 0.95, 1e-8, 0.0, 1.0});
  RandomGenerator data_rng(options.seed, /*stream=*/1);

  std::printf("copy task: strings of %d-%d symbols from %d, %lld rows x %lld tokens per step\n",
              task.min_length, task.max_length, task.symbols, (long long)task.rows,
              (long long)task.row_length);
  std::printf("model: 2 Gated SSM blocks (bidirectional, causal), D=%lld N=%lld, %lld parameters\n",
              (long long)config.dim, (long long)config.state, (long long)config.parameter_count());
  std::printf("chance level: loss %.3f (ln %d)\n\n", std::log(double(task.symbols)), task.symbols);

  Stopwatch clock;
  double tokens_seen = 0;
  for (int step = 1; step <= options.steps; ++step) {
    const auto batch = data::make_copy_task_batch(task, data_rng);
    lm.parameters().zero_grad();
    const auto result = lm.loss(batch.tokens, batch.targets, batch.reset);
    autograd::backward(result.loss);
    const double warmup = std::min(1.0, step / 50.0);
    const double decay = 0.5 * (1 + std::cos(M_PI * step / options.steps));
    const auto report = optimizer.step(options.lr * warmup * std::max(decay, 0.1));
    tokens_seen += double(batch.tokens.numel());
    if (step == 1 || step % 25 == 0 || step == options.steps)
      std::printf("step %4d/%d  loss %.4f  grad-norm %.3f  %.0f tokens/s%s\n", step, options.steps,
                  result.loss.item(), report.grad_norm, tokens_seen / clock.seconds(),
                  report.skipped ? "  (skipped: non-finite gradient)" : "");
  }
  std::printf("\ndone in %.1f s\n", clock.seconds());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_copy_task: %s\n", e.what());
  return 1;
}
