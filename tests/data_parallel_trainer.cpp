// Data-parallel steps in which one rank's share holds no counted targets, driven through
// training::Trainer directly (run by tests/data_parallel_trainer.sh, alone and under mpirun):
//
//   data_parallel_trainer OUT [--zero] [--bucket-elements N]
//
// A global batch of 4 rows in 2 micro-batches a step; rank r of G trains on rows
// [r·4/G, (r+1)·4/G) of each. Some steps mask every label of one rank's rows, or of one
// rank's last micro-batch only, so that rank has nothing to backpropagate while the other
// does. The program trains 8 steps, then again cut after 5 steps (checkpoint written by
// rank 0, read back by every rank into a fresh model and optimizer) and checks the cut
// run bitwise against the uncut one, and the replicated weights equal on every rank. Rank
// 0 writes to OUT, for the script to compare with a world of one: the validation losses of
// the initial weights (over 3 sets split over the ranks, one of them without targets) and
// each step's loss and gradient norm. Exit 0 when every check passed; a check that fails
// ends the whole job with exit 1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "training/trainer.h"
#include "training/validation_losses.h"
#include "engine/atomic_file.h"
#include "engine/distributed.h"
#include "engine/error.h"
#include "engine/fingerprint.h"
#include "engine/random.h"
#include "model/checkpoint.h"
#include "model/language_model.h"
#include "objectives/validation_set.h"
#include "support/prompt_label_rows.h"

using namespace birdie;
namespace fs = std::filesystem;

namespace {

constexpr int global_rows = 4, micro_batches = 2, steps = 8, cut_after = 5;
const model::ModelConfig config{40, 12, 16, 2};

// Which global rows of micro-batch k lose all their targets at `step` (1-based): rows 2-3
// are rank 1's share on 2 ranks, rows 0-1 rank 0's.
bool masked(int step, int k, int row) {
  switch (step) {
    case 2: return row >= 2;             // rank 1 holds no targets at all
    case 3: return row < 2;              // rank 0 holds none
    case 4: return k == 1 && row >= 2;   // rank 1's last micro-batch holds none
    case 5: return k == 0 && row < 2;    // rank 0's first micro-batch holds none
    case 6: return row >= 2;             // rank 1 again, after the cut
    default: return false;
  }
}

std::vector<std::vector<objectives::PackedBatch>> global_batches() {
  RandomGenerator rng(23);
  std::vector<std::vector<objectives::PackedBatch>> out(steps);
  for (int s = 1; s <= steps; ++s)
    for (int k = 0; k < micro_batches; ++k) {
      objectives::PackedBatch b = testing::prompt_label_rows(rng, std::int32_t(config.vocab), global_rows);
      for (int r = 0; r < b.rows; ++r)
        if (masked(s, k, r))
          for (int t = 0; t < b.length; ++t) b.targets[b.at(r, t)] = objectives::ignore_target;
      out[std::size_t(s - 1)].push_back(std::move(b));
    }
  return out;
}

std::vector<objectives::PackedBatch> share(const std::vector<objectives::PackedBatch>& global) {
  const distributed::World& world = distributed::world();
  if (world.size == 1) return global;
  const int rows = global_rows / world.size;
  std::vector<objectives::PackedBatch> out;
  for (const auto& b : global) out.push_back(b.rows_slice(world.rank * rows, (world.rank + 1) * rows));
  return out;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "data_parallel_trainer (rank %d): %s\n", distributed::world().rank, what.c_str());
  std::fflush(stderr);
  distributed::abort_job(1);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

struct Run {
  std::unique_ptr<model::LanguageModel> lm = model::make_language_model(config, DType::f32, Device::cpu, 5);
  std::unique_ptr<training::Trainer> trainer;
  std::vector<training::StepResult> results;

  explicit Run(const autograd::AdamWConfig& optimizer) : trainer(std::make_unique<training::Trainer>(*lm, optimizer)) {}
  void train(const std::vector<std::vector<objectives::PackedBatch>>& batches, int from, int to) {
    for (int s = from; s <= to; ++s) {
      const std::vector<objectives::PackedBatch> mine = share(batches[std::size_t(s - 1)]);
      trainer->step(s, mine, 1e-2);
      for (const training::StepResult& r : trainer->finished_steps(true)) results.push_back(r);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const distributed::World& world = distributed::init(argc, argv);
  try {
    if (argc < 2) throw Error("usage: data_parallel_trainer OUT [--zero] [--bucket-elements N]");
    const fs::path out_path = argv[1];
    autograd::AdamWConfig optimizer{0.9, 0.95, 1e-8, 0.1, 1.0};
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--zero") optimizer.shard_state = true;
      else if (arg == "--bucket-elements" && i + 1 < argc) optimizer.bucket_elements = std::atoll(argv[++i]);
      else throw Error("unknown argument '" + arg + "'");
    }
    BIRDIE_CHECK(global_rows % world.size == 0, "run on 1, 2 or 4 ranks, not ", world.size);
    const auto batches = global_batches();

    Run uncut(optimizer);
    // Validation losses of the initial weights: set 1 holds no targets (NaN), and on 2 ranks
    // it is rank 1's only set.
    std::vector<objectives::ValidationSet> sets;
    for (int i = 0; i < 3; ++i) sets.push_back({std::size_t(i), "set " + std::to_string(i), batches[0][0]});
    for (std::int32_t& t : sets[1].rows.targets) t = objectives::ignore_target;
    const std::vector<double> validation = training::validation_losses(*uncut.lm, sets, 2);
    uncut.train(batches, 1, steps);

    // Cut after cut_after steps: a checkpoint (sharded moments gathered to rank 0), read
    // back by every rank into a fresh model and optimizer.
    const fs::path checkpoints = out_path.string() + ".checkpoints";
    Run cut(optimizer);
    cut.train(batches, 1, cut_after);
    const autograd::OptimizerState state = cut.trainer->optimizer().state();
    if (world.rank == 0) {
      fs::remove_all(checkpoints);
      model::TrainingState training;
      training.step = cut_after;
      model::save_checkpoint(checkpoints, *cut.lm, &state, training, 1);
    }
    std::int64_t written[1] = {0};
    distributed::all_reduce_sum(written);  // the checkpoint is on disk once rank 0 joins
    Run resumed(optimizer);
    const model::TrainingState loaded =
        model::load_checkpoint(*model::latest_checkpoint(checkpoints), *resumed.lm, &resumed.trainer->optimizer());
    BIRDIE_CHECK(loaded.step == cut_after, "the checkpoint holds step ", loaded.step);
    resumed.results = cut.results;
    resumed.train(batches, cut_after + 1, steps);

    if (uncut.results.size() != std::size_t(steps) || resumed.results.size() != std::size_t(steps))
      fail("expected " + std::to_string(steps) + " results from each run");
    for (std::size_t i = 0; i < uncut.results.size(); ++i) {
      const training::StepResult &a = uncut.results[i], &b = resumed.results[i];
      if (a.skipped || !same_bits(a.loss, b.loss) || !same_bits(a.grad_norm, b.grad_norm))
        fail("step " + std::to_string(a.step) + ": the resumed run differs from the uncut one (loss " +
             std::to_string(a.loss) + " against " + std::to_string(b.loss) + ")");
    }
    const Tensor& weights = uncut.lm->parameters().values();
    if (fnv1a(weights) != fnv1a(resumed.lm->parameters().values()))
      fail("the resumed run's weights differ from the uncut run's");
    // (This rank's shard of them when sharded.)
    if (fnv1a(uncut.trainer->optimizer().first_moment()) != fnv1a(resumed.trainer->optimizer().first_moment()) ||
        fnv1a(uncut.trainer->optimizer().second_moment()) != fnv1a(resumed.trainer->optimizer().second_moment()))
      fail("the resumed run's moments differ from the uncut run's");
    distributed::check_same_on_all_ranks(fnv1a(weights), "the weights after training");
    distributed::check_same_on_all_ranks(fnv1a(validation.data(), validation.size() * sizeof(double)),
                                         "the validation losses");

    if (world.rank == 0) {
      std::string text;
      char line[160];
      for (std::size_t i = 0; i < validation.size(); ++i) {
        std::snprintf(line, sizeof line, "validation %zu %.17g\n", i, validation[i]);
        text += line;
      }
      for (const training::StepResult& r : uncut.results) {
        std::snprintf(line, sizeof line, "step %lld %.17g %.17g %lld\n", (long long)r.step, r.loss, r.grad_norm,
                      (long long)r.counted);
        text += line;
      }
      write_file_atomically(out_path, text);
      std::printf("%d rank(s): %d steps, resumed bitwise after step %d\n", world.size, steps, cut_after);
    }
    return 0;
  } catch (const std::exception& e) {
    fail(e.what());
  }
}
