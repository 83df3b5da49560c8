// step_bench: the whole training step of a model configuration, measured: forward,
// backward and AdamW on random tokens (a packed batch with several samples per row), as
// pretrain runs them. Reports milliseconds per step, tokens/s, MFU (6 · parameters ·
// tokens / time against the device's dense bf16 peak), the allocations a step makes once
// warmed up and, on a GPU, the peak device memory the step needed, whether the memory
// pool's reserve still grows, and the host's waits for the device on the training path
// (forward, backward, AdamW: 0 expected, AdamW deciding on the device; the bench then
// waits once per step, apart, to time it), with the copies from host memory to the device
// on that path, which may wait too (engine/device.h), and the gradients the backward pass
// copied instead of handing them on (autograd/tape.h: 0 expected). --accumulate K: K
// micro-batches of R x T a step, each weighted 1/K, then one AdamW (the paper's batch is
// 130 micro-batches of 4 x 2048 with batch.accumulation = 130), as the trainer
// accumulates them.
//
//   step_bench --model configs/model/paper.toml (or a run configuration such as configs/paper-1.4b.toml)
//              [--rows R] [--seq T] [--accumulate K] [--steps N]
//              [--warmup W] [--device cpu|cuda] [--precision auto|fp32|bf16]
//              [--recompute] [--peak-tflops X] [--generate G] [--host-times]
//              [--evaluation [--history H] [--evaluate-every E]]
//
// --host-times: the host time of each named range (engine/nvtx.h: the ops, the forward, the
// backward, AdamW) over the timed steps, per step. Launches are asynchronous, so on a GPU
// this shows where the host spends a step whose work it issues barely ahead of the device,
// or where it blocks.
// --generate G: afterwards, recurrent generation at batch 1 (model/generator.h) with the
// trained-for-a-few-steps weights: a prefill of a T-token prompt, then G tokens decoded
// one at a time, greedy, each token's logits copied to the host as generate does; reports
// the prefill time and the decoding tokens/s.
//
// --evaluation: Birdie's own cost at this size (docs/method.md §4): one evaluation's validation
// losses (the default grid's configurations × 8 samples of T tokens, random text, on the
// device) and its policy work (the reward-driven policy restored with --history H rows,
// then observe(): the critic retrained, candidates drawn and scored, as pretrain does),
// and their share of training at one evaluation every --evaluate-every E steps (default
// 1000) of the median step measured above.
//
// A Transformer's MFU is printed a second time with its attention's FLOPs counted too:
// 4 · dim per (query, key) pair its layer's mask lets through in this batch forward, 3.5
// times that forward and backward (FlashAttention's convention), over every layer.
//
// The peak defaults to 989 TFLOP/s (H100 SXM dense bf16) on cuda; give --peak-tflops for
// another GPU. MFU is not printed on the CPU.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/common/bench_setup.h"
#include "apps/common/command_line.h"
#include "training/model_flops.h"
#include "training/run_config.h"
#include "training/run_policy.h"
#include "training/training_model.h"
#include "training/trainer.h"
#include "training/validation_losses.h"
#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "bandit/mixture_policy.h"
#include "bandit/reward.h"
#include "data/special_tokens.h"
#include "data/token_source.h"
#include "engine/device.h"
#include "engine/nvtx.h"
#include "engine/random.h"
#include "engine/storage.h"
#include "engine/timer.h"
#include "kernels/scan.h"
#include "model/language_model.h"
#include "model/generator.h"
#include "objectives/objective_grid.h"
#include "objectives/validation_set.h"
#ifdef BIRDIE_WITH_CUDA
#include "kernels/cuda/scan.h"
#endif

using namespace birdie;

namespace {

struct Options {
  std::string model, device = "cpu", precision = "auto";
  std::int64_t rows = 4, seq = 2048, accumulate = 1;
  int steps = 10, warmup = 2;
  bool recompute = false;
  double peak_tflops = training::default_peak_flops / 1e12;
  std::int64_t generate = 0;
  bool evaluation = false, host_times = false;
  std::int64_t history = 40, evaluate_every = 1000;
};

Options parse(int argc, char** argv) {
  Options o;
  apps::CommandLine cli("step_bench", "measures one training step of a model configuration");
  const auto positive_count = apps::as<std::int64_t>(apps::positive_number);
  cli.option("--model", o.model, "FILE.toml", "the model or run configuration (required; e.g. configs/model/paper.toml)");
  cli.option("--rows", o.rows, positive_count, "R", "rows per step (default 4)");
  cli.option("--seq", o.seq, positive_count, "T", "tokens per row (default 2048)");
  cli.option("--accumulate", o.accumulate, positive_count, "K", "micro-batches of R x T per optimizer step (default 1)");
  cli.option("--steps", o.steps, apps::as<int>(apps::positive_number), "N", "steps timed (default 10)");
  cli.option("--warmup", o.warmup, apps::at_least(0), "W", "steps before the timing (default 2)");
  cli.option("--device", o.device, "cpu|cuda", "where the step runs (default cpu)");
  cli.option("--precision", o.precision, "auto|fp32|bf16", "compute precision (default auto: bf16 on cuda)");
  cli.flag("--recompute", o.recompute, "activation recompute per block");
  cli.option("--peak-tflops", o.peak_tflops, apps::positive_number, "X", "the device's dense bf16 peak in TFLOP/s, for the MFU (default 989: H100 SXM)");
  cli.option("--generate", o.generate, positive_count, "G", "afterwards, time a prefill and G tokens of greedy decoding at batch 1");
  cli.flag("--host-times", o.host_times, "the host time of each named range (ops, forward, backward, AdamW) per step");
  cli.flag("--evaluation", o.evaluation, "also time one Birdie evaluation (validation losses and the policy's work)");
  cli.option("--history", o.history, positive_count, "H", "history rows the policy is restored with (default 40)");
  cli.option("--evaluate-every", o.evaluate_every, positive_count, "E", "steps between evaluations, for the share of training (default 1000)");
  cli.check([&o] {
    if (o.model.empty()) throw apps::UsageError("--model is required (e.g. configs/model/paper.toml)");
  });
  cli.parse(argc, argv);
  return o;
}

// Rows of samples of 200-600 tokens, each a prompt read both ways then a causal label, so
// every kernel path of a Birdie batch runs.
struct Batch {
  Tensor tokens, targets, reset;
  std::int64_t counted = 0;  // targets in the loss, counted on the host as the trainer does
};
Batch random_batch(std::int64_t rows, std::int64_t seq, std::int64_t vocab, Device device) {
  RandomGenerator rng(123);
  std::vector<std::int32_t> tokens(rows * seq), targets(rows * seq), reset(rows * seq, 0);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t t = 0; t < seq;) {
      const std::int64_t length = std::min<std::int64_t>(200 + rng.uniform_int(400), seq - t);
      reset[r * seq + t] = kernels::reset_bits::segment_start;
      for (std::int64_t k = length / 2; k < length; ++k) reset[r * seq + t + k] |= kernels::reset_bits::causal;
      t += length;
    }
  for (auto& v : tokens) v = static_cast<std::int32_t>(rng.uniform_int(vocab));
  for (std::size_t i = 0; i < targets.size(); ++i) targets[i] = reset[i] & kernels::reset_bits::causal ? tokens[i] : -1;
  auto make = [&](const std::vector<std::int32_t>& v) {
    return Tensor::from_values<std::int32_t>(v, {rows, seq}).to(device);
  };
  const auto counted = std::count_if(targets.begin(), targets.end(), [](std::int32_t t) { return t >= 0; });
  return {make(tokens), make(targets), make(reset), counted};
}

// Batch-1 recurrent generation: prefill a seq-token prompt, then decode `count` tokens.
void measure_generation(const model::LanguageModel& lm, std::int64_t seq, std::int64_t count, std::int64_t vocab) {
  RandomGenerator rng(321);
  std::vector<std::int32_t> prompt(seq);
  for (auto& v : prompt) v = static_cast<std::int32_t>(rng.uniform_int(vocab));
  model::SamplingOptions greedy;
  std::vector<double> prefill_seconds;
  double decode_seconds = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms up
    const std::unique_ptr<model::Decoder> decoder = lm.decoder();
    Stopwatch prefill_watch;
    Tensor logits = decoder->prefill(prompt, data::special_tokens::start_generating);
    prefill_seconds.push_back(prefill_watch.seconds());
    Stopwatch decode_watch;
    for (std::int64_t k = 0; k < count; ++k) logits = decoder->step(model::sample_token(logits, greedy, rng));
    decode_seconds = decode_watch.seconds();  // step returns host logits: the device is done
  }
  std::printf("  generation, batch 1: prefill of %lld tokens %.2f ms; %lld tokens decoded at %.0f tokens/s "
              "(%.3f ms per token)\n",
              (long long)seq, prefill_seconds.back() * 1e3, (long long)count, double(count) / decode_seconds,
              decode_seconds / double(count) * 1e3);
}

// A policy state with `history` evaluations behind it: losses falling from ~5, actions
// the uniform mixture, rewards by the §4 formula (the critic's work depends on the row
// count, not on the values).
void give_history(bandit::MixturePolicy& policy, std::size_t n, std::int64_t history, std::int64_t every) {
  bandit::PolicyState state;
  policy.save(state);
  nlohmann::json j = nlohmann::json::parse(state.json);
  std::vector<std::vector<double>> losses, actions, rewards;
  const std::vector<double> uniform = policy.current_mixture();
  for (std::int64_t t = 0; t < history; ++t) {
    std::vector<double> before(n), after(n), reward(n);
    for (std::size_t i = 0; i < n; ++i) {
      before[i] = 5.0 * std::pow(0.97, double(t)) * (1.0 + 0.01 * double(i % 7));
      after[i] = before[i] * 0.97;
      reward[i] = bandit::interval_reward(before[i], after[i]);
    }
    losses.push_back(before);
    actions.push_back(uniform);
    rewards.push_back(reward);
  }
  j["history"] = {{"losses", losses}, {"actions", actions}, {"rewards", rewards}};
  j["last_losses"] = std::vector<double>(n, 2.0);
  j["last_step"] = history * every;
  j["evaluations"] = history + 1;
  state.json = j.dump();
  policy.restore(state);
}

void measure_evaluation(const model::LanguageModel& lm, const Options& o, double step_seconds) {
  const objectives::ObjectiveGrid grid = objectives::load_objective_grid(objectives::default_grid_path());
  RandomGenerator rng(99);
  std::vector<data::Token> text(std::size_t{1} << 20);
  for (auto& t : text)
    t = static_cast<data::Token>(data::special_tokens::reserved_count +
                                 rng.uniform_int(std::max<std::int64_t>(1, lm.config().vocab - data::special_tokens::reserved_count)));
  const data::VectorTokenSource validation_text(std::move(text));
  // Packed as pretrain packs them: min_pack_tokens 256 (its default), below half a row for short rows.
  const int row_length = static_cast<int>(o.seq);
  const auto sets = objectives::build_validation_sets(validation_text, grid.configs, row_length,
                                                      std::min(256, row_length / 2));
  std::vector<double> seconds;
  std::vector<double> losses;
  for (int round = 0; round < 4; ++round) {  // the first round warms up
    Stopwatch watch;
    losses = training::validation_losses(lm, sets, int(o.rows));  // reads the losses back: the device is done
    if (round > 0) seconds.push_back(watch.seconds());
  }
  std::sort(seconds.begin(), seconds.end());
  const double validation_s = seconds[seconds.size() / 2];
  std::int64_t rows = 0;
  for (const auto& set : sets) rows += set.rows.rows;

  const bandit::MixturePolicyConfig config = training::policy_config(training::RunConfig{});  // pretrain's defaults
  const std::int64_t total_steps = o.evaluate_every * (o.history + 2) * 10;
  const auto policy = bandit::make_mixture_policy(config, grid, total_steps, 1);
  give_history(*policy, grid.configs.size(), o.history, o.evaluate_every);
  const bandit::EvaluationRecord record = policy->observe((o.history + 1) * o.evaluate_every, losses);
  const double total_s = validation_s + record.seconds;
  const double interval_s = double(o.evaluate_every) * step_seconds;
  std::printf("  Birdie evaluation: %zu configurations x 8 samples (%lld rows of %lld tokens), critic history %lld rows\n"
              "    validation losses %.3f s (median of 3, on %s); policy %.3f s (decision %s, critic retrained %lld "
              "iterations)\n"
              "    at one evaluation every %lld steps: %.2f%% of training wall time; %.2f%% with the policy on its\n"
              "    background thread (objectives.policy_lag_steps > 0), the validation losses alone\n",
              grid.configs.size(), (long long)rows, (long long)o.seq, (long long)o.history, validation_s,
              std::string(device_name(lm.device())).c_str(), record.seconds, record.decision.c_str(),
              record.critic_fit ? (long long)record.critic_fit->iterations : 0LL, (long long)o.evaluate_every,
              100.0 * total_s / (interval_s + total_s), 100.0 * validation_s / (interval_s + validation_s));
}

// The ranges' host time per timed step, most first (inclusive: a range's total holds the
// ranges inside it); ranges named alike but for their numbers ("block 3.forward") together.
void print_host_times(int steps, double step_seconds) {
  std::vector<host_times::Entry> merged;
  for (host_times::Entry& e : host_times::take()) {
    std::string name;
    for (char c : e.name)
      if (!std::isdigit(static_cast<unsigned char>(c))) name += c;
      else if (name.empty() || name.back() != '#') name += '#';
    auto same = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.name == name; });
    if (same == merged.end()) same = merged.insert(merged.end(), {name, 0, 0.0});
    same->calls += e.calls;
    same->seconds += e.seconds;
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  std::printf("  host time per step by range (inclusive), of a %.2f ms step:\n", step_seconds * 1e3);
  int shown = 0;
  for (const host_times::Entry& e : merged) {
    if (++shown > 25) break;
    std::printf("    %-28s %8.3f ms %6.1f%% %8.1f calls\n", e.name.c_str(), e.seconds / steps * 1e3,
                100.0 * e.seconds / steps / step_seconds, double(e.calls) / steps);
  }
}

// The (query, key) pairs the attention mask of kernels/attention.h lets through in the
// batch's rows: a query sees the keys of its segment up to itself, and a prompt query under
// the prefix mask also the prompt keys after it.
double visible_pairs(const Tensor& reset, bool prefix) {
  const Tensor r = reset.to(Device::cpu);
  const std::int32_t* bits = r.data<std::int32_t>();
  const std::int64_t rows = r.dim(0), T = r.dim(1);
  double pairs = 0;
  for (std::int64_t b = 0; b < rows; ++b) {
    const std::int32_t* row = bits + b * T;
    for (std::int64_t s = 0; s < T;) {
      std::int64_t e = s + 1;
      while (e < T && !(row[e] & kernels::reset_bits::segment_start)) ++e;
      std::int64_t prompt_after = 0;  // prompt keys after query i in the segment
      for (std::int64_t i = e - 1; i >= s; --i) {
        const bool prompt = !(row[i] & kernels::reset_bits::causal);
        pairs += double(i - s + 1) + (prefix && prompt ? double(prompt_after) : 0.0);
        if (prompt) ++prompt_after;
      }
      s = e;
    }
  }
  return pairs;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const auto [device, config, compute] = apps::bench_setup(o.model, o.device, o.precision);
  reset_device_memory_peak();
  const std::unique_ptr<model::LanguageModel> model =
      training::make_training_model(config, device, o.precision, 1, o.recompute);
  model::LanguageModel& lm = *model;
  autograd::AdamW optimizer(lm.parameters(), {});
  const Batch batch = random_batch(o.rows, o.seq, config.vocab, device);
  const double tokens = double(o.accumulate * o.rows * o.seq), params = double(config.parameter_count());
  std::string scan;
#ifdef BIRDIE_WITH_CUDA
  if (device == Device::cuda) scan = std::string(", scan ") + kernels::cuda::scan_kernel_name(kernels::cuda::scan_kernel());
#endif
  const std::string micro_batches =
      o.accumulate > 1 ? " x " + std::to_string(o.accumulate) + " micro-batches accumulated" : "";
  std::printf("step_bench: %s, %.1fM parameters, %lld x %lld tokens%s, %s compute on %s%s%s\n", o.model.c_str(),
              params / 1e6, (long long)o.rows, (long long)o.seq, micro_batches.c_str(), dtype_name(compute).data(),
              o.device.c_str(), scan.c_str(), o.recompute ? ", recompute per block" : "");

  // enqueued: until the host has issued the step's work; own: that less the time spent
  // waiting for the device inside it (the host's own work: launches, bookkeeping).
  std::vector<double> seconds, enqueued, own;
  Tensor loss;  // the last micro-batch's, weighted
  // Each micro-batch weighted by its share of the step's counted targets (all alike here).
  const double weight = 1.0 / double(o.accumulate);
  MemoryStats after_warmup = memory_stats();
  std::uint64_t training_path_waits = 0;  // over the timed steps, before each step's end
  std::uint64_t training_path_uploads = 0;  // copies from host memory, which may wait too
  std::uint64_t gradient_copies = 0;  // gradients the backward pass copied instead of handing on
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    if (i == o.warmup) after_warmup = memory_stats(), host_times::enable(o.host_times);
    BIRDIE_NVTX_RANGE("step_bench.step");
    Stopwatch watch;
    const double waited_before = host_wait_seconds();
    const std::uint64_t waits_before = host_waits(), uploads_before = host_uploads();
    const std::uint64_t copies_before = autograd::gradient_copies();
    lm.parameters().zero_grad();
    for (std::int64_t m = 0; m < o.accumulate; ++m) {
      const auto ce = lm.loss(batch.tokens, batch.targets, batch.reset, {batch.counted, weight});
      autograd::backward(ce.loss);
      loss = ce.loss;
    }
    optimizer.queue_step(1e-4);  // its report is not read: the training path reads it a step later
    const double issued = watch.seconds(), waiting = host_wait_seconds() - waited_before;
    if (i >= o.warmup) {
      training_path_waits += host_waits() - waits_before;
      training_path_uploads += host_uploads() - uploads_before;
      gradient_copies += autograd::gradient_copies() - copies_before;
    }
    synchronize_device();  // the bench's own wait, to time the whole step: not on the training path
    if (i >= o.warmup) seconds.push_back(watch.seconds()), enqueued.push_back(issued), own.push_back(issued - waiting);
  }
  host_times::enable(false);
  const double waits_per_step = double(training_path_waits) / o.steps;
  const double uploads_per_step = double(training_path_uploads) / o.steps;
  std::sort(seconds.begin(), seconds.end());
  std::sort(enqueued.begin(), enqueued.end());
  std::sort(own.begin(), own.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("  step: median %.2f ms (min %.2f, max %.2f over %d steps), %.0f tokens/s, loss %.3f\n",
              median * 1e3, seconds.front() * 1e3, seconds.back() * 1e3, o.steps, tokens / median, loss.item() / weight);
  // Launches are asynchronous: when the host's own work (issued minus waited) is about the
  // whole step, the device idles in the gaps, and launch overhead or host work (not the
  // kernels) sets the pace; a wait inside the step drains the device's queue instead.
  if (device == Device::cuda) {
    const double issued = enqueued[enqueued.size() / 2], work = own[own.size() / 2];
    std::printf("  host: the step's work issued in %.2f ms (median), the host's own work in it %.2f ms (%.0f%% of "
                "the step; the rest waiting for the device); %.1f waits for the device a step on the training "
                "path: forward, backward, AdamW (0 expected: the norm, the clip factor and the skip are decided on "
                "the device, the loss is read later; the bench itself then waits once, to time the step), and %.1f "
                "copies from host memory to the device on it, each a possible wait (the backward pass's seed is one; "
                "AdamW copies nothing: its segment table went to the device when it was built)\n",
                issued * 1e3, work * 1e3, 100.0 * work / median, waits_per_step, uploads_per_step);
  }
  // After warm-up a step should only reuse memory: the pool's reserve must not grow.
  const MemoryStats end = memory_stats();
  const double per_step = 1.0 / o.steps;
  std::printf("  gradient copies per step: %.1f (0 expected: every op hands its gradient on or writes a fresh one)\n",
              double(gradient_copies) * per_step);
  std::printf("  allocations per step after warm-up: %.1f host, %.1f device\n",
              double(end.host_allocations - after_warmup.host_allocations) * per_step,
              double(end.device_allocations - after_warmup.device_allocations) * per_step);
  if (device == Device::cuda) {
    constexpr double gib = double(1ull << 30);
    std::printf("  MFU %.1f%% of %.0f TFLOP/s (6 x parameters x tokens per step)\n",
                100.0 * training::model_flops_utilization(params, tokens / median, o.peak_tflops * 1e12), o.peak_tflops);
    if (config.architecture == model::Architecture::transformer) {
      double attention_flops = 0;
      for (std::int64_t l = 0; l < config.layers; ++l)
        attention_flops += 3.5 * 4.0 * double(config.dim) * visible_pairs(batch.reset, config.is_bidirectional(l));
      std::printf("  MFU %.1f%% with attention's FLOPs counted (%.2f TFLOP a step of %.2f: 3.5 x 4 x dim per "
                  "visible (query, key) pair, each layer)\n",
                  100.0 * (6.0 * params * tokens + attention_flops) / median / (o.peak_tflops * 1e12),
                  attention_flops / 1e12, (6.0 * params * tokens + attention_flops) / 1e12);
    }
    std::printf("  peak device memory in use: %.2f GiB; pool reserve %.2f GiB, grew %.3f GiB over the timed steps\n",
                double(end.device_peak_in_use_bytes) / gib, double(end.device_reserved_bytes) / gib,
                (double(end.device_reserved_bytes) - double(after_warmup.device_reserved_bytes)) / gib);
  }
  if (o.host_times) print_host_times(o.steps, median);
  if (o.generate > 0) measure_generation(lm, o.seq, o.generate, config.vocab);
  if (o.evaluation) measure_evaluation(lm, o, median);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "step_bench: %s\n", e.what());
  return 1;
}
