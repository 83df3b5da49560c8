// The reward-driven mixture policy ("birdie", docs/method.md §4). At each evaluation:
//   1. the losses are checked (loss_observation.h); the interval that just ended becomes a
//      history row [L_old ‖ mixture used] with target R = interval_rewards(L_old, L_new);
//   2. the critic is retrained on the whole history (critic_trainer.h) whenever it has a row;
//   3. the next mixture: uniform while step < round(uniform_fraction · total_steps) (or no
//      history yet); otherwise, with probability ε(step) an exploration action
//      (exploration.h), else the critic's choice: candidates (candidate_mixtures.h) scored
//      with the shared history state (RewardCritic::predict_next_row), class-balanced
//      scores, mean of the top_k (candidate_scoring.h);
//   4. with class_floor > 0, the floor (class_floor.h) on the next mixture, whichever way
//      it was chosen, and on the candidates before the critic scores them.
// Every random draw comes from one Philox stream whose position is saved, so a restored
// policy makes bitwise the same choices as one that never stopped.
#pragma once

#include <memory>

#include "bandit/mixture_policy.h"

namespace birdie::bandit {

class RewardDrivenPolicy final : public MixturePolicy {
 public:
  RewardDrivenPolicy(const MixturePolicyConfig& config, const objectives::ObjectiveGrid& grid,
                     std::int64_t total_steps, std::uint64_t seed);

  const std::vector<objectives::ObjectiveConfig>& configurations() const override { return configs_; }
  std::vector<double> current_mixture() const override { return mixture_; }
  const std::vector<std::int64_t>& evaluation_steps() const override { return steps_; }
  EvaluationRecord observe(std::int64_t step, const std::vector<double>& losses) override;
  void save(PolicyState& out) const override;
  void restore(const PolicyState& in) override;

  const RewardCritic& critic() const { return *critic_; }
  std::size_t history_rows() const { return history_losses_.size(); }

 private:
  void choose_with_critic(EvaluationRecord& record);
  Tensor history_tensor(const std::vector<std::vector<double>>& rows) const;

  MixturePolicyConfig config_;
  std::vector<objectives::ObjectiveConfig> configs_;
  std::vector<std::vector<std::size_t>> classes_;
  std::size_t n_;
  std::int64_t total_steps_;
  std::uint64_t seed_;
  std::vector<std::int64_t> steps_;
  std::int64_t uniform_until_;
  std::vector<double> uniform_;

  // State (saved).
  std::vector<double> mixture_;
  std::vector<double> last_losses_;  // empty before the first usable evaluation
  std::int64_t last_step_ = 0;
  std::int64_t evaluations_ = 0;
  std::vector<std::vector<double>> history_losses_, history_actions_, history_rewards_;
  RandomGenerator rng_;
  std::unique_ptr<RewardCritic> critic_;
  std::unique_ptr<CriticTrainer> trainer_;
};

}  // namespace birdie::bandit
