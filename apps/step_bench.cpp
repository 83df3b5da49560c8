// step_bench: the whole training step of a model configuration, measured: forward,
// backward and AdamW on random tokens (a packed batch with several samples per row), as
// pretrain runs them. Reports milliseconds per step, tokens/s, MFU (6 · parameters ·
// tokens / time against the device's dense bf16 peak), the allocations a step makes once
// warmed up and, on a GPU, the peak device memory the step needed and whether the memory
// pool's reserve still grows.
//
//   step_bench --model configs/model/paper.toml (or a run configuration such as configs/paper-1.4b.toml)
//              [--rows R] [--seq T] [--steps N]
//              [--warmup W] [--device cpu|cuda] [--precision auto|fp32|bf16]
//              [--recompute] [--peak-tflops X] [--generate G]
//
// --generate G: afterwards, recurrent generation at batch 1 (model/generator.h) with the
// trained-for-a-few-steps weights: a prefill of a T-token prompt, then G tokens decoded
// one at a time, greedy, each token's logits copied to the host as generate does; reports
// the prefill time and the decoding tokens/s.
//
// The peak defaults to 989 TFLOP/s (H100 SXM dense bf16) on cuda; give --peak-tflops for
// another GPU. MFU is not printed on the CPU.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/common/run_config.h"
#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "data/special_tokens.h"
#include "engine/device.h"
#include "engine/nvtx.h"
#include "engine/random.h"
#include "engine/storage.h"
#include "engine/timer.h"
#include "kernels/scan.h"
#include "model/gated_ssm_lm.h"
#include "model/generator.h"

using namespace birdie;

namespace {

struct Options {
  std::string model, device = "cpu", precision = "auto";
  std::int64_t rows = 4, seq = 2048;
  int steps = 10, warmup = 2;
  bool recompute = false;
  double peak_tflops = 989;
  std::int64_t generate = 0;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "step_bench: %s\n"
               "usage: step_bench --model FILE.toml [--rows R] [--seq T] [--steps N] [--warmup W]\n"
               "                  [--device cpu|cuda] [--precision auto|fp32|bf16] [--recompute]\n"
               "                  [--peak-tflops X] [--generate G]\n",
               problem.c_str());
  std::exit(2);
}

double positive(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (*end != '\0' || !(v > 0)) usage(flag + " needs a positive number, got '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("measures one training step of a model configuration");
    if (flag == "--recompute") { o.recompute = true; continue; }
    if (i + 1 >= argc) usage("missing value after " + flag);
    const char* value = argv[++i];
    if (flag == "--model") o.model = value;
    else if (flag == "--rows") o.rows = static_cast<std::int64_t>(positive(flag, value));
    else if (flag == "--seq") o.seq = static_cast<std::int64_t>(positive(flag, value));
    else if (flag == "--steps") o.steps = static_cast<int>(positive(flag, value));
    else if (flag == "--warmup") o.warmup = std::atoi(value);
    else if (flag == "--device") o.device = value;
    else if (flag == "--precision") o.precision = value;
    else if (flag == "--peak-tflops") o.peak_tflops = positive(flag, value);
    else if (flag == "--generate") o.generate = static_cast<std::int64_t>(positive(flag, value));
    else usage("unknown option " + flag);
  }
  if (o.model.empty()) usage("--model is required (e.g. configs/model/paper.toml)");
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
void measure_generation(const model::GatedSsmLm& lm, std::int64_t seq, std::int64_t count, std::int64_t vocab) {
  RandomGenerator rng(321);
  std::vector<std::int32_t> prompt(seq);
  for (auto& v : prompt) v = static_cast<std::int32_t>(rng.uniform_int(vocab));
  model::SamplingOptions greedy;
  std::vector<double> prefill_seconds;
  double decode_seconds = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms up
    model::RecurrentGenerator generator(lm);
    Stopwatch prefill_watch;
    Tensor logits = generator.prefill(prompt, data::special_tokens::start_generating);
    prefill_seconds.push_back(prefill_watch.seconds());
    Stopwatch decode_watch;
    for (std::int64_t k = 0; k < count; ++k) logits = generator.step(model::sample_token(logits, greedy, rng));
    decode_seconds = decode_watch.seconds();  // step returns host logits: the device is done
  }
  std::printf("  generation, batch 1: prefill of %lld tokens %.2f ms; %lld tokens decoded at %.0f tokens/s "
              "(%.3f ms per token)\n",
              (long long)seq, prefill_seconds.back() * 1e3, (long long)count, double(count) / decode_seconds,
              decode_seconds / double(count) * 1e3);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const Device device = parse_device(o.device);
  BIRDIE_CHECK(device == Device::cpu || cuda_device_count() > 0,
               "--device cuda but no GPU is visible (or this build has no CUDA backend)");
  const model::GatedSsmConfig config = apps::load_model_config(o.model);
  const DType compute = apps::compute_dtype(o.precision, device);
  reset_device_memory_peak();
  model::GatedSsmLm lm(config, DType::f32, device, 1, compute);
  lm.set_recompute_blocks(o.recompute);
  autograd::AdamW optimizer(lm.parameters(), {});
  const Batch batch = random_batch(o.rows, o.seq, config.vocab, device);
  const double tokens = double(o.rows * o.seq), params = double(config.parameter_count());
  std::printf("step_bench: %s, %.1fM parameters, %lld x %lld tokens, %s compute on %s%s\n", o.model.c_str(),
              params / 1e6, (long long)o.rows, (long long)o.seq, dtype_name(compute).data(), o.device.c_str(),
              o.recompute ? ", recompute per block" : "");

  std::vector<double> seconds;
  double loss = 0;
  MemoryStats after_warmup = memory_stats();
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    if (i == o.warmup) after_warmup = memory_stats();
    BIRDIE_NVTX_RANGE("step_bench.step");
    Stopwatch watch;
    lm.parameters().zero_grad();
    const auto ce = lm.loss(batch.tokens, batch.targets, batch.reset, {batch.counted, 1.0});
    autograd::backward(ce.loss);
    optimizer.step(1e-4);
    loss = ce.loss.item();  // waits for the device: the step is complete
    if (i >= o.warmup) seconds.push_back(watch.seconds());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("  step: median %.2f ms (min %.2f, max %.2f over %d steps), %.0f tokens/s, loss %.3f\n",
              median * 1e3, seconds.front() * 1e3, seconds.back() * 1e3, o.steps, tokens / median, loss);
  // After warm-up a step should only reuse memory: the pool's reserve must not grow.
  const MemoryStats end = memory_stats();
  const double per_step = 1.0 / o.steps;
  std::printf("  allocations per step after warm-up: %.1f host, %.1f device\n",
              double(end.host_allocations - after_warmup.host_allocations) * per_step,
              double(end.device_allocations - after_warmup.device_allocations) * per_step);
  if (device == Device::cuda) {
    constexpr double gib = double(1ull << 30);
    std::printf("  MFU %.1f%% of %.0f TFLOP/s (6 x parameters x tokens per step)\n",
                100.0 * 6.0 * params * tokens / median / (o.peak_tflops * 1e12), o.peak_tflops);
    std::printf("  peak device memory in use: %.2f GiB; pool reserve %.2f GiB, grew %.3f GiB over the timed steps\n",
                double(end.device_peak_in_use_bytes) / gib, double(end.device_reserved_bytes) / gib,
                (double(end.device_reserved_bytes) - double(after_warmup.device_reserved_bytes)) / gib);
  }
  if (o.generate > 0) measure_generation(lm, o.seq, o.generate, config.vocab);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "step_bench: %s\n", e.what());
  return 1;
}
