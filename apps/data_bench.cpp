// data_bench: throughput of objective generation + packing (tokens/s of packed rows), on
// one thread and through the BatchLoader's workers, and of prepare_data's encoding (MB/s).
//
//   data_bench [--data DIR] [--rows N] [--length L] [--batches N] [--workers N]
//              [--prepare-out DIR] [--skip-prepare]
//
// Text: the train split of a prepare_data folder (--data), else uniform random tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/common/command_line.h"
#include "data/prepare_corpus.h"
#include "data/token_shard.h"
#include "engine/error.h"
#include "objectives/batch_loader.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace birdie;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::shared_ptr<const data::TokenSource> random_text(std::size_t n) {
  RandomGenerator rng(1);
  std::vector<data::Token> tokens(n);
  for (auto& t : tokens) t = static_cast<data::Token>(data::special_tokens::reserved_count + rng.uniform_int(4096 - 119));
  return std::make_shared<data::VectorTokenSource>(std::move(tokens));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string data_dir, prepare_out = (std::filesystem::temp_directory_path() / "birdie_bench_prepare").string();
    int rows = 16, length = 2048, batches = 64, workers = 2;
    bool skip_prepare = false;
    apps::CommandLine cli("data_bench", "throughput of objective generation and packing, and of prepare_data's encoding");
    cli.option("--data", data_dir, "DIR", "text: the train split of a prepare_data folder (default: random tokens)");
    cli.option("--rows", rows, apps::at_least(1), "N", "rows per batch (default 16)");
    cli.option("--length", length, apps::at_least(1), "L", "tokens per row (default 2048)");
    cli.option("--batches", batches, apps::at_least(1), "N", "batches timed (default 64)");
    cli.option("--workers", workers, apps::at_least(1), "N", "BatchLoader workers and prepare_data threads (default 2)");
    cli.option("--prepare-out", prepare_out, "DIR", "where prepare_data's timing writes (default: a temporary folder)");
    cli.flag("--skip-prepare", skip_prepare, "do not time prepare_data");
    cli.parse(argc, argv);
    std::shared_ptr<const data::TokenSource> text =
        data_dir.empty() ? random_text(8u << 20)
                         : std::make_shared<data::ShardTokenSource>(data::open_split(data_dir, "train"));
    std::printf("data_bench: text %s (%zu tokens), rows %d x L %d\n", data_dir.empty() ? "random tokens" : data_dir.c_str(),
                text->size(), rows, length);

    const auto grid = objectives::load_objective_grid(objectives::default_grid_path());
    const objectives::BatchShape shape{rows, length, 256};
    const double batch_tokens = static_cast<double>(rows) * length;
    for (const auto& mixture : {objectives::uniform_mixture(grid), objectives::next_token_mixture(), objectives::ul2_mixture()}) {
      const auto start = Clock::now();
      objectives::PackingStats stats;
      for (int b = 0; b < batches; ++b) {
        RandomGenerator rng(3, static_cast<std::uint64_t>(b));
        stats.merge(objectives::build_packed_batch(*text, static_cast<std::uint64_t>(b) * rows * length, mixture, shape, rng).stats);
      }
      const double s = seconds_since(start);
      std::printf("  1 thread, mixture %-8s %10.0f tokens/s (fill %.3f, %llu samples)\n", mixture.name.c_str(),
                  batch_tokens * batches / s, stats.fill_ratio(), static_cast<unsigned long long>(stats.samples));
    }
    // One class at a time (uniform over its grid configurations).
    const auto by_class = grid.indices_by_class();
    for (int c = 0; c < objectives::objective_class_count; ++c) {
      std::vector<objectives::ObjectiveConfig> configs;
      for (std::size_t i : by_class[static_cast<std::size_t>(c)]) configs.push_back(grid.configs[i]);
      if (configs.empty()) continue;
      const auto mixture = objectives::make_mixture(std::string(objectives::class_name(static_cast<objectives::ObjectiveClass>(c))),
                                                    configs, std::vector<double>(configs.size(), 1.0));
      const auto start = Clock::now();
      const int class_batches = std::max(1, batches / 4);
      objectives::PackingStats stats;
      for (int b = 0; b < class_batches; ++b) {
        RandomGenerator rng(4, static_cast<std::uint64_t>(b));
        stats.merge(objectives::build_packed_batch(*text, static_cast<std::uint64_t>(b) * rows * length, mixture, shape, rng).stats);
      }
      std::printf("  1 thread, class %-18s %10.0f tokens/s (fill %.3f)\n", mixture.name.c_str(),
                  batch_tokens * class_batches / seconds_since(start), stats.fill_ratio());
    }
    {
      objectives::LoaderOptions options;
      options.shape = shape;
      options.workers = workers;
      options.prefetch = 2 * workers;
      objectives::BatchLoader loader(text, objectives::uniform_mixture(grid), options);
      loader.next();  // warm-up: threads started, first batch built
      const auto start = Clock::now();
      for (int b = 0; b < batches; ++b) loader.next();
      const double s = seconds_since(start);
      std::printf("  BatchLoader, %d workers, uniform mixture: %10.0f tokens/s\n", workers, batch_tokens * batches / s);
    }
    if (!skip_prepare && std::filesystem::exists("/usr/share/games/fortunes")) {
      // Encoding throughput with a tokenizer trained once (training time reported apart).
      data::PrepareOptions options;
      options.out = prepare_out;
      options.threads = workers;
      options.tokenizer.threads = workers;
      const auto trained = data::prepare_corpus(options);
      options.existing_tokenizer = trained.tokenizer;
      const auto s = data::prepare_corpus(options);
      std::printf("  prepare_data (fortunes, %d threads): tokenizer training %.1f s; encoding %.2f MB in %.2f s = %.2f MB/s (%.0f tokens/s)\n",
                  workers, trained.tokenizer_seconds, static_cast<double>(s.input_bytes) / 1e6, s.encode_seconds,
                  static_cast<double>(s.input_bytes) / 1e6 / s.encode_seconds,
                  static_cast<double>(s.train_tokens + s.validation_tokens) / s.encode_seconds);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_bench: error: %s\n", e.what());
    return 1;
  }
}
