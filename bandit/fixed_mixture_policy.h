// A policy whose mixture never changes ("ntp", "ul2", "uniform", "fixed" user weights):
// evaluations still happen on the same schedule and are logged with their rewards, so
// baseline runs produce the same log as reward-driven ones.
#pragma once

#include "bandit/mixture_policy.h"

namespace birdie::bandit {

class FixedMixturePolicy final : public MixturePolicy {
 public:
  FixedMixturePolicy(std::string kind, objectives::Mixture mixture, std::vector<std::int64_t> steps,
                     std::int64_t total_steps);

  const std::vector<objectives::ObjectiveConfig>& configurations() const override { return mixture_.configs; }
  std::vector<double> current_mixture() const override { return mixture_.weights; }
  const std::vector<std::int64_t>& evaluation_steps() const override { return steps_; }
  EvaluationRecord observe(std::int64_t step, const std::vector<double>& losses) override;
  void save(PolicyState& out) const override;
  void restore(const PolicyState& in) override;

 private:
  std::string kind_;
  objectives::Mixture mixture_;
  std::vector<std::int64_t> steps_;
  std::int64_t total_steps_;
  std::vector<double> last_losses_;
  std::int64_t last_step_ = 0;
};

}  // namespace birdie::bandit
