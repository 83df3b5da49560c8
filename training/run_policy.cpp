#include "training/run_policy.h"

#include "data/token_shard.h"

namespace birdie::training {

bandit::MixturePolicyConfig policy_config(const RunConfig& c) {
  bandit::MixturePolicyConfig p;
  const bool named = c.mixture == "birdie" || c.mixture == "ntp" || c.mixture == "ul2" || c.mixture == "uniform";
  p.kind = named ? c.mixture : "fixed";
  if (!named) p.weights_file = c.mixture;
  p.uniform_candidates = p.sharpened_candidates = c.candidates;
  p.training.iterations = c.critic_iterations;
  p.class_floor = c.class_floor;
  return p;
}

bandit::EvaluationPlan plan_evaluations(const RunConfig& c, const bandit::MixturePolicyConfig& policy,
                                        std::size_t configurations,
                                        const std::vector<objectives::ValidationSet>& validation, int world_size) {
  const double parameters = double(c.model.parameter_count());
  double validation_tokens = 0;
  for (const auto& set : validation) validation_tokens += double(set.rows.rows) * double(set.rows.length);
  bandit::EvaluationCosts costs;
  costs.training_step_flops = 6 * parameters * double(c.tokens_per_step() * world_size);
  costs.validation_flops = 2 * parameters * validation_tokens;
  if (c.device == "cpu") bandit::add_policy_costs(policy, std::int64_t(configurations), costs);
  return bandit::plan_evaluations(c.steps, c.evaluation_budget, costs);
}

std::vector<objectives::ValidationSet> run_validation_sets(const RunConfig& c,
                                                           const std::vector<objectives::ObjectiveConfig>& configs,
                                                           int samples, std::uint64_t seed) {
  const data::ShardTokenSource text = data::open_split(c.data, "validation", static_cast<int>(c.model.vocab));
  return objectives::build_validation_sets(text, configs, c.sequence_length, c.min_pack_tokens, samples, seed);
}

}  // namespace birdie::training
