// checkpoint_parity: one checkpoint, loaded on the CPU and on the GPU, must compute the
// same logits: the check that a model trained on a GPU is the model a CPU-side user gets.
//
//   checkpoint_parity RUN_OR_CHECKPOINT [--device cuda|cpu] [--rows R] [--seq T] [--seed S]
//                     [--tolerance X]
//
// Loads the checkpoint three times: on the GPU in bf16 compute (fp32 master weights, as
// pretrain trains on a GPU), on the CPU in fp32 (the reference) and on the CPU with bf16
// emulation (the same roundings as the GPU, other summation orders). --device cpu tests
// the CPU's bf16 emulation in the GPU's place (no GPU needed; the tests use it). Runs each on the
// same R x T rows of random tokens, packed as training packs them (samples of 64-300
// tokens, each a bidirectional prompt then a causal half), and reports for the GPU against
// each CPU model the relative L2 error ||gpu - cpu|| / ||cpu|| of all logits, the largest
// difference against the largest logit, and how often the argmax agrees.
// Exit status: 0 when the GPU's relative error against the CPU's fp32 logits is within the
// tolerance (default 0.05: bf16 compute through every layer); 1 when it is not, or on an
// error; 2 on bad arguments; 77 when --device cuda finds no GPU (nothing is compared).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "apps/common/command_line.h"
#include "apps/common/trained_model.h"
#include "data/special_tokens.h"
#include "engine/device.h"
#include "engine/random.h"
#include "kernels/scan.h"

using namespace birdie;

namespace {

struct Options {
  std::string checkpoint, device = "cuda";
  std::int64_t rows = 2, seq = 512;
  std::uint64_t seed = 7;
  double tolerance = 0.05;
};

Options parse(int argc, char** argv) {
  Options o;
  apps::CommandLine cli("checkpoint_parity", "compares a checkpoint's logits on the CPU and on the GPU");
  cli.positional("RUN_OR_CHECKPOINT", o.checkpoint, "a run folder (its newest checkpoint) or a checkpoint folder");
  cli.option("--device", o.device, "cuda|cpu", "the device compared with the CPU (default cuda; cpu: its bf16 emulation)");
  cli.option("--rows", o.rows, apps::as<std::int64_t>(apps::positive_number), "R", "rows of random tokens (default 2)");
  cli.option("--seq", o.seq, apps::as<std::int64_t>(apps::positive_number), "T", "tokens per row (default 512)");
  cli.option("--seed", o.seed, apps::as<std::uint64_t>(apps::positive_number), "S", "seed of the random tokens (default 7)");
  cli.option("--tolerance", o.tolerance, apps::positive_number, "X", "largest relative L2 error of the logits (default 0.05)");
  cli.footer("exit status: 0 within the tolerance; 1 beyond it, or on an error; 2 on bad arguments; 77 without a GPU");
  cli.check([&o] {
    if (o.checkpoint.empty()) throw apps::UsageError("a run folder or checkpoint folder is required");
  });
  cli.parse(argc, argv);
  return o;
}

struct Rows {
  Tensor tokens, reset;
};

Rows random_rows(const Options& o, std::int64_t vocab) {
  RandomGenerator rng(o.seed);
  std::vector<std::int32_t> tokens(o.rows * o.seq), reset(o.rows * o.seq, 0);
  const std::int64_t first_text = data::special_tokens::reserved_count;
  for (std::int64_t r = 0; r < o.rows; ++r)
    for (std::int64_t t = 0; t < o.seq;) {
      const std::int64_t length = std::min<std::int64_t>(64 + rng.uniform_int(237), o.seq - t);
      reset[r * o.seq + t] = kernels::reset_bits::segment_start;
      for (std::int64_t k = length / 2; k < length; ++k) reset[r * o.seq + t + k] |= kernels::reset_bits::causal;
      t += length;
    }
  for (auto& v : tokens) v = static_cast<std::int32_t>(first_text + rng.uniform_int(vocab - first_text));
  return {Tensor::from_values<std::int32_t>(tokens, {o.rows, o.seq}),
          Tensor::from_values<std::int32_t>(reset, {o.rows, o.seq})};
}

// The model's logits for the rows, as f32 values on the host, [rows * seq * V].
std::vector<float> host_logits(const apps::TrainedModel& m, const Rows& rows) {
  const Device device = m.lm->device();
  const Tensor logits = m.lm->logits(rows.tokens.to(device), rows.reset.to(device)).to(Device::cpu);
  return (logits.dtype() == DType::f32 ? logits : logits.to(DType::f32)).to_vector<float>();
}

struct Comparison {
  double relative_l2 = 0, max_difference = 0, max_reference = 0, argmax_agreement = 0;
};

Comparison compare(const std::vector<float>& gpu, const std::vector<float>& reference, std::int64_t vocab) {
  Comparison c;
  double diff2 = 0, ref2 = 0;
  std::int64_t agree = 0;
  const std::int64_t positions = static_cast<std::int64_t>(reference.size()) / vocab;
  for (std::int64_t p = 0; p < positions; ++p) {
    std::int64_t arg_gpu = 0, arg_ref = 0;
    for (std::int64_t v = 0; v < vocab; ++v) {
      const double g = gpu[p * vocab + v], r = reference[p * vocab + v];
      if (!std::isfinite(g)) {
        diff2 = INFINITY;
        c.max_difference = INFINITY;
      }
      diff2 += (g - r) * (g - r);
      ref2 += r * r;
      c.max_difference = std::max(c.max_difference, std::abs(g - r));
      c.max_reference = std::max(c.max_reference, std::abs(r));
      if (g > gpu[p * vocab + arg_gpu]) arg_gpu = v;
      if (r > reference[p * vocab + arg_ref]) arg_ref = v;
    }
    agree += arg_gpu == arg_ref;
  }
  c.relative_l2 = std::sqrt(diff2 / std::max(ref2, 1e-300));
  c.argmax_agreement = double(agree) / double(std::max<std::int64_t>(positions, 1));
  return c;
}

void print(const char* tested, const char* what, const Comparison& c) {
  std::printf("  %s bf16 vs %-22s relative L2 %.2e, max |difference| %.3g (max |logit| %.3g), argmax agrees %.1f%%\n",
              tested, what, c.relative_l2, c.max_difference, c.max_reference, 100.0 * c.argmax_agreement);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const Device device = parse_device(o.device);
  if (device == Device::cuda && (!built_with_cuda() || cuda_device_count() == 0)) {
    std::printf("checkpoint_parity: SKIPPED, %s: nothing compared\n",
                built_with_cuda() ? "no GPU is visible" : "this build has no CUDA backend");
    return 77;
  }
  const apps::TrainedModel tested = apps::load_trained_model(o.checkpoint, std::nullopt, device, "bf16");
  const apps::TrainedModel cpu = apps::load_trained_model(o.checkpoint, std::nullopt, Device::cpu, "fp32");
  const std::int64_t vocab = tested.lm->config().vocab;
  std::printf("checkpoint_parity: %s, %lld x %lld tokens, vocabulary %lld; %s computes in bf16\n",
              tested.checkpoint.string().c_str(), (long long)o.rows, (long long)o.seq, (long long)vocab,
              o.device.c_str());
  const Rows rows = random_rows(o, vocab);
  const std::vector<float> logits = host_logits(tested, rows);
  const Comparison against_fp32 = compare(logits, host_logits(cpu, rows), vocab);
  print(o.device.c_str(), "cpu fp32 (reference):", against_fp32);
  if (device != Device::cpu) {
    const apps::TrainedModel cpu_bf16 = apps::load_trained_model(o.checkpoint, std::nullopt, Device::cpu, "bf16");
    print(o.device.c_str(), "cpu bf16 emulation:", compare(logits, host_logits(cpu_bf16, rows), vocab));
  }
  const bool ok = std::isfinite(against_fp32.relative_l2) && against_fp32.relative_l2 <= o.tolerance;
  std::printf("%s: relative L2 against the CPU's fp32 logits %.2e %s the tolerance %.2e\n", ok ? "PASSED" : "FAILED",
              against_fp32.relative_l2, ok ? "within" : "above", o.tolerance);
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "checkpoint_parity: %s\n", e.what());
  return 1;
}
