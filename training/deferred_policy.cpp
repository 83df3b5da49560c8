#include "training/deferred_policy.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace birdie::training {

namespace {
constexpr const char* section = "deferred_mixture";
}

DeferredPolicy::DeferredPolicy(bandit::MixturePolicy& policy, std::int64_t lag)
    : policy_(policy), lag_(lag), in_effect_(policy.current_mixture()) {
  BIRDIE_CHECK(lag >= 0, "objectives.policy_lag_steps must be ≥ 0, got ", lag);
}

DeferredPolicy::~DeferredPolicy() {
  if (running_.valid()) running_.wait();
}

void DeferredPolicy::start(std::int64_t step, std::vector<double> losses, std::int64_t next_evaluation,
                           double validation_seconds) {
  BIRDIE_CHECK(effect_step_ < 0, "the evaluation at step ", step, " started before the previous one took effect "
               "(at step ", effect_step_, ")");
  effect_step_ = std::min(step + lag_, std::max(step, next_evaluation));
  validation_seconds_ = validation_seconds;
  if (lag_ == 0) {
    finished_ = policy_.observe(step, losses);
    finished_->validation_seconds = validation_seconds_;
    return;
  }
  // The policy is touched by this thread alone until after_step or settle joins it.
  running_ = std::async(std::launch::async,
                        [this, step, losses = std::move(losses)] { return policy_.observe(step, losses); });
}

DeferredPolicy::Update DeferredPolicy::after_step(std::int64_t step) {
  Update update;
  if (effect_step_ < 0 || step < effect_step_) return update;
  if (running_.valid()) finish();  // waits if the work is not done yet
  update.record = std::move(finished_);
  finished_.reset();
  in_effect_ = policy_.current_mixture();
  update.switch_mixture = true;
  effect_step_ = -1;
  return update;
}

void DeferredPolicy::finish() {
  const auto start = std::chrono::steady_clock::now();
  finished_ = running_.get();
  finished_->validation_seconds = validation_seconds_;
  finished_->wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::optional<bandit::EvaluationRecord> DeferredPolicy::settle() {
  if (running_.valid()) finish();
  std::optional<bandit::EvaluationRecord> record = std::move(finished_);
  finished_.reset();
  return record;
}

void DeferredPolicy::save(model::TrainingState& state) const {
  BIRDIE_CHECK(!running_.valid() && !finished_, "a checkpoint of a pending evaluation needs settle() first");
  if (effect_step_ < 0) return;
  state.sections[section] = nlohmann::json{{"effect_step", effect_step_}, {"in_effect", in_effect_}}.dump();
}

void DeferredPolicy::restore(const model::TrainingState& state) {
  in_effect_ = policy_.current_mixture();
  effect_step_ = -1;
  const auto found = state.sections.find(section);
  if (found == state.sections.end()) return;
  try {
    const nlohmann::json j = nlohmann::json::parse(found->second);
    effect_step_ = j.at("effect_step").get<std::int64_t>();
    in_effect_ = j.at("in_effect").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("checkpoint section '") + section + "': " + e.what());
  }
  bandit::check_mixture(in_effect_, policy_.configurations().size(), "the checkpoint's mixture in effect");
  BIRDIE_CHECK(effect_step_ > state.step, "checkpoint section '", section, "': a mixture switch at step ",
               effect_step_, " in a checkpoint of step ", state.step);
}

}  // namespace birdie::training
