// Retraining the critic after every evaluation (docs/method.md §4): the same network, on the
// whole history, `iterations` full-batch steps of MSE with AdamW (weight decay 0.1,
// gradient clip 1.0), one learning-rate triangle per retraining: low → peak over the first
// half of the iterations, then back (defaults 5e-7 → 5e-4 over 100 iterations → 5e-7).
// The optimizer's moments persist from one retraining to the next (autograd/adamw.h).
#pragma once

#include <vector>

#include "autograd/adamw.h"
#include "bandit/reward_critic.h"

namespace birdie::bandit {

struct CriticTrainingConfig {
  int iterations = 200;
  double lr_low = 5e-7;
  double lr_peak = 5e-4;
  // β as the engine's AdamW default (0.9, 0.95); §4 fixes only lr, decay and clipping.
  autograd::AdamWConfig adamw{0.9, 0.95, 1e-8, 0.1, 1.0};
};

// Iteration i of `iterations` (0-based): rises linearly from lr_low at i = 0 to lr_peak at
// i = iterations/2, then falls linearly towards lr_low at i = iterations.
double triangular_learning_rate(int iteration, const CriticTrainingConfig& config);

struct CriticFit {
  double first_mse = 0;  // before the first update
  double last_mse = 0;   // at the last iteration, before its update
  int iterations = 0;
  int skipped_steps = 0;  // non-finite gradients (the optimizer skipped them)
};

class CriticTrainer {
 public:
  CriticTrainer(RewardCritic& critic, const CriticTrainingConfig& config);

  // losses, actions, rewards: [T, n] f32 (T ≥ 1).
  CriticFit fit(const Tensor& losses, const Tensor& actions, const Tensor& rewards);
  // MSE of the critic's predictions, no update.
  double mean_squared_error(const Tensor& losses, const Tensor& actions, const Tensor& rewards) const;

  autograd::AdamW& optimizer() { return optimizer_; }
  const CriticTrainingConfig& config() const { return config_; }

 private:
  RewardCritic& critic_;
  CriticTrainingConfig config_;
  autograd::AdamW optimizer_;
};

}  // namespace birdie::bandit
