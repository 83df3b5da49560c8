// GPU memory needed to train a model configuration, computed from what the engine keeps:
// fp32 master weights, gradients and AdamW moments in flat buffers, a bf16 compute copy,
// and per block and token the activations the backward pass reads (bf16), with or
// without activation recompute per block. An estimate to plan runs, not a measurement.
// Per rank of a data-parallel job (--ranks G, rows per rank): with --zero 1 each rank keeps
// the AdamW moments of its 1/G shard and a buffer for its shard of the summed gradient;
// master weights, gradients and the compute copy stay whole on every rank.
//
//   memory_plan CONFIG.toml [--rows R] [--seq T] [--recompute] [--gpu-gib G] [--ranks G] [--zero 0|1]
//
// CONFIG is a model configuration (configs/model/*.toml) or a run configuration.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/common/command_line.h"
#include "training/run_config.h"
#include "engine/error.h"
#include "model/architecture.h"

using namespace birdie;

namespace {
constexpr double gib = 1024.0 * 1024.0 * 1024.0;
}  // namespace

int main(int argc, char** argv) try {
  std::string config_path;
  double rows = 4, seq = 2048, gpu = 79.0;  // an "80 GB" H100 shows about 79.6 GiB
  double ranks = 1;
  bool recompute = false, zero = false;
  apps::CommandLine cli("memory_plan", "GPU memory needed to train a model configuration (an estimate)");
  cli.positional("CONFIG.toml", config_path, "a model configuration (configs/model/*.toml) or a run configuration");
  cli.option("--rows", rows, apps::positive_number, "R", "rows per micro-batch (per rank) (default 4)");
  cli.option("--seq", seq, apps::positive_number, "T", "tokens per row (default 2048)");
  cli.flag("--recompute", recompute, "activation recompute per block");
  cli.option("--gpu-gib", gpu, apps::positive_number, "G", "the GPU's memory in GiB (default 79)");
  cli.option("--ranks", ranks, apps::positive_number, "G", "data-parallel ranks (default 1)");
  cli.option("--zero", "0|1", "1: each rank keeps the AdamW moments of its shard (ZeRO-1) (default 0)",
             [&zero](const std::string& stage) {
               if (stage != "0" && stage != "1") throw apps::UsageError("--zero needs 0 or 1, got '" + stage + "'");
               zero = stage == "1";
             });
  cli.footer("exit status: 0 when it fits, 1 when it does not, 2 on bad arguments or configurations");
  cli.check([&] {
    if (config_path.empty()) throw apps::UsageError("a configuration file is required (CONFIG.toml)");
  });
  cli.parse(argc, argv);
  const auto config = training::load_model_config(config_path);
  const double P = double(config.parameter_count()), D = double(config.dim);
  const double V = double(config.vocab), L = double(config.layers), tokens = rows * seq;

  const double shard = zero ? 1 / ranks : 1;
  const double master = 4 * P, gradients = 4 * P * (1 + (zero && ranks > 1 ? shard : 0)), moments = 8 * P * shard,
               compute_copy = 2 * P;
  const auto& architecture = model::architecture_config(config.architecture);
  const double per_block_token = architecture.saved_bytes_per_block_token(config);
  const double saved = recompute ? L * tokens * 2 * D + tokens * per_block_token
                                 : L * tokens * per_block_token;
  const double transient = tokens * architecture.transient_bytes_per_token(config);
  // Logits (bf16) become dlogits in place in the fused cross-entropy; plus the head input.
  const double logits = tokens * V * 2 + tokens * D * 2;
  const double total = master + gradients + moments + compute_copy + saved + transient + logits;

  std::printf("%s: %.3fB parameters, %g rows x %g tokens = %g tokens per micro-batch%s\n", config_path.c_str(), P / 1e9,
              rows, seq, tokens, recompute ? ", recompute per block" : "");
  if (ranks > 1)
    std::printf("per rank of %g (%g x %g tokens per micro-batch in all), optimizer state %s\n", ranks, ranks, tokens,
                zero ? "sharded (ZeRO-1)" : "replicated");
  const std::pair<const char*, double> lines[] = {
      {"fp32 master weights", master}, {"fp32 gradients", gradients},
      {zero && ranks > 1 ? "fp32 AdamW moments (this shard)" : "fp32 AdamW moments", moments},
      {"bf16 compute copy", compute_copy}, {"saved activations", saved},
      {"backward transient (one block)", transient}, {"logits / dlogits", logits}};
  for (const auto& [what, bytes] : lines) std::printf("  %-32s %8.2f GiB\n", what, bytes / gib);
  std::printf("  %-32s %8.2f GiB of %.0f GiB: %s\n", "total", total / gib, gpu,
              total / gib < 0.9 * gpu ? "fits (10% headroom kept for the allocator and workspaces)" : "does NOT fit");
  return total / gib < 0.9 * gpu ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "memory_plan: %s\n", e.what());
  return 2;
}
