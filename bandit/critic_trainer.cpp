#include "bandit/critic_trainer.h"

#include <algorithm>

#include "autograd/ops.h"
#include "autograd/tape.h"

namespace birdie::bandit {

double triangular_learning_rate(int iteration, const CriticTrainingConfig& config) {
  const double half = std::max(1, config.iterations / 2);
  const double position = iteration <= half ? iteration / half : (config.iterations - iteration) / half;
  return config.lr_low + (config.lr_peak - config.lr_low) * std::clamp(position, 0.0, 1.0);
}

CriticTrainer::CriticTrainer(RewardCritic& critic, const CriticTrainingConfig& config)
    : critic_(critic), config_(config), optimizer_(critic.parameters(), config.adamw) {
  BIRDIE_CHECK(config.iterations >= 1, "critic training: iterations must be ≥ 1, got ",
               config.iterations);
}

namespace {
Tensor mse(const Tensor& predicted, const Tensor& rewards) {
  namespace ag = autograd;
  const Tensor difference = ag::add(predicted, ag::scale(rewards, -1.0));
  return ag::scale(ag::sum(ag::mul(difference, difference)), 1.0 / double(rewards.numel()));
}
}  // namespace

double CriticTrainer::mean_squared_error(const Tensor& losses, const Tensor& actions,
                                         const Tensor& rewards) const {
  autograd::NoGradGuard no_grad;
  return mse(critic_.forward(losses, actions), rewards).item();
}

CriticFit CriticTrainer::fit(const Tensor& losses, const Tensor& actions, const Tensor& rewards) {
  check_shape(rewards, losses.shape(), "critic training rewards");
  BIRDIE_CHECK(losses.rank() == 2 && losses.dim(0) >= 1, "critic training: no history rows");
  CriticFit fit;
  fit.iterations = config_.iterations;
  for (int i = 0; i < config_.iterations; ++i) {
    critic_.parameters().zero_grad();
    const Tensor loss = mse(critic_.forward(losses, actions), rewards);
    const double value = loss.item();
    if (i == 0) fit.first_mse = value;
    fit.last_mse = value;
    autograd::backward(loss);
    if (optimizer_.step(triangular_learning_rate(i, config_)).skipped) ++fit.skipped_steps;
  }
  return fit;
}

}  // namespace birdie::bandit
