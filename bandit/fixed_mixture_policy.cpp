#include "bandit/fixed_mixture_policy.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "bandit/loss_observation.h"
#include "bandit/policy_state_json.h"
#include "bandit/reward.h"

namespace birdie::bandit {

FixedMixturePolicy::FixedMixturePolicy(std::string kind, objectives::Mixture mixture,
                                       std::vector<std::int64_t> steps, std::int64_t total_steps)
    : kind_(std::move(kind)), mixture_(std::move(mixture)), steps_(std::move(steps)), total_steps_(total_steps) {
  check_mixture(mixture_.weights, mixture_.configs.size(), "mixture '" + mixture_.name + "'");
}

EvaluationRecord FixedMixturePolicy::observe(std::int64_t step, const std::vector<double>& losses) {
  const auto start = std::chrono::steady_clock::now();
  check_observation(step, last_step_, total_steps_, losses.size(), mixture_.configs.size());
  last_step_ = step;
  EvaluationRecord record;
  record.step = step;
  record.policy = kind_;
  record.losses = losses;
  const SanitizedLosses clean = sanitize_losses(losses, last_losses_, mixture_.configs);
  record.warnings = clean.warnings;
  record.decision = clean.usable ? "fixed" : "unchanged";
  if (clean.usable) {
    if (!last_losses_.empty()) record.rewards = interval_rewards(last_losses_, clean.losses);
    last_losses_ = clean.losses;
  }
  record.mixture = mixture_.weights;
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return record;
}

void FixedMixturePolicy::save(PolicyState& out) const {
  nlohmann::json j;
  j["kind"] = kind_;
  j["configurations"] = mixture_.configs.size();
  j["total_steps"] = total_steps_;
  j["weights"] = mixture_.weights;
  j["last_losses"] = last_losses_;
  j["last_step"] = last_step_;
  out.json = j.dump();
  out.tensors.clear();
}

void FixedMixturePolicy::restore(const PolicyState& in) {
  const nlohmann::json j = parse_policy_state_json(in);
  BIRDIE_CHECK(j.value("kind", std::string()) == kind_ &&
                   j.value("configurations", std::size_t(0)) == mixture_.configs.size() &&
                   j.value("total_steps", std::int64_t(0)) == total_steps_ &&
                   j.value("weights", std::vector<double>()) == mixture_.weights,
               "mixture policy state: saved for another policy (kind '", j.value("kind", std::string("?")),
               "'), this run uses '", kind_, "' with ", mixture_.configs.size(), " configurations over ",
               total_steps_, " steps. Fix: resume with the same mixture and run length");
  last_losses_ = j.at("last_losses").get<std::vector<double>>();
  last_step_ = j.at("last_step").get<std::int64_t>();
}

}  // namespace birdie::bandit
