// Times one evaluation's bandit work as training runs it (docs/method.md §4), on the CPU:
// retraining the critic (width 256, state 512, 4 blocks) for 200 full-history iterations
// on 40 history rows, then drawing and scoring 4096 + 4096 candidates with the shared
// history state, over the default grid (configs/objectives/default_grid.toml).
// Usage: bandit_bench [HISTORY_ROWS=40] [REPEATS=3]. Target: under 5 s per evaluation on
// 2 CPU cores (set OMP_NUM_THREADS / OPENBLAS_NUM_THREADS to change the core count).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "apps/common/command_line.h"
#include "bandit/candidate_mixtures.h"
#include "bandit/candidate_scoring.h"
#include "bandit/critic_trainer.h"
#include "bandit/reward.h"
#include "bandit/reward_critic.h"
#include "objectives/objective_grid.h"

using namespace birdie;
using namespace birdie::bandit;

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string history_text = "40", repeats_text = "3";
  int history_rows = 0, repeats = 0;
  apps::CommandLine cli("bandit_bench", "times one evaluation's bandit work on the CPU");
  cli.positional("HISTORY_ROWS", history_text, "rows of loss history the critic retrains on (default 40)");
  cli.positional("REPEATS", repeats_text, "runs, the best reported (default 3)");
  cli.check([&] {
    history_rows = apps::whole_number("HISTORY_ROWS", history_text, 1);
    repeats = apps::whole_number("REPEATS", repeats_text, 1);
  });
  cli.parse(argc, argv);
  try {
    const std::int64_t H = history_rows;
    const objectives::ObjectiveGrid grid = objectives::load_objective_grid(objectives::default_grid_path());
    const auto n = static_cast<std::int64_t>(grid.configs.size());
    std::printf("bandit_bench: %lld configurations, %lld history rows, critic 256/512/4\n",
                static_cast<long long>(n), static_cast<long long>(H));

    RandomGenerator rng(1);
    // A plausible history: losses falling from ~5, rewards from the §4 formula.
    Tensor losses = Tensor::empty({H, n}, DType::f32), rewards = Tensor::empty({H, n}, DType::f32);
    const Tensor actions = draw_candidate_mixtures(n, H, 0, 4.0, rng);
    for (std::int64_t t = 0; t < H; ++t)
      for (std::int64_t i = 0; i < n; ++i) {
        const double old_loss = 5.0 * std::pow(0.97, double(t)) * (1.0 + 0.01 * double(i % 7));
        losses.data<float>()[t * n + i] = static_cast<float>(old_loss);
        rewards.data<float>()[t * n + i] = static_cast<float>(interval_reward(old_loss, old_loss * (0.96 + 0.02 * rng.uniform())));
      }
    std::vector<float> current(n, 2.0f);
    const Tensor current_losses = Tensor::from_values<float>(current, {n});

    RewardCritic critic({n, 256, 512, 4}, 7);
    CriticTrainer trainer(critic, CriticTrainingConfig{});
    const auto classes = grid.indices_by_class();
    double best_total = 1e30;
    for (int r = 0; r < repeats; ++r) {
      auto start = std::chrono::steady_clock::now();
      const CriticFit fit = trainer.fit(losses, actions, rewards);
      const double train_s = seconds_since(start);
      start = std::chrono::steady_clock::now();
      const Tensor candidates = draw_candidate_mixtures(n, 4096, 4096, 4.0, rng);
      const double draw_s = seconds_since(start);
      start = std::chrono::steady_clock::now();
      const Tensor predicted = critic.predict_next_row(losses, actions, current_losses, candidates);
      const double predict_s = seconds_since(start);
      start = std::chrono::steady_clock::now();
      const TopCandidates top = mean_of_top_candidates(candidates, class_balanced_scores(predicted, classes), 8);
      const double choose_s = seconds_since(start);
      const double total = train_s + draw_s + predict_s + choose_s;
      best_total = std::min(best_total, total);
      std::printf("run %d: retrain 200 it %.3f s (%.2f ms/it, mse %.4g -> %.4g) | draw 8192 %.3f s | "
                  "score 8192 %.3f s | top-8 %.3f s | total %.3f s (best score %.4f)\n",
                  r, train_s, 1e3 * train_s / 200, fit.first_mse, fit.last_mse, draw_s, predict_s,
                  choose_s, total, top.best_score);
    }
    std::printf("bandit_bench: best total %.3f s per evaluation (target < 5 s)\n", best_total);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bandit_bench: %s\n", e.what());
    return 1;
  }
}
