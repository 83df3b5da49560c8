#include "bandit/evaluation_record.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace birdie::bandit {

namespace {
nlohmann::json by_name(const std::vector<double>& values,
                       const std::vector<objectives::ObjectiveConfig>& configurations) {
  BIRDIE_CHECK(values.size() == configurations.size(), "to_json_line: ", values.size(),
               " values for ", configurations.size(), " configurations");
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < values.size(); ++i)
    j[configurations[i].name] = std::isfinite(values[i]) ? nlohmann::json(values[i]) : nlohmann::json();
  return j;
}
}  // namespace

std::string to_json_line(const EvaluationRecord& r,
                         const std::vector<objectives::ObjectiveConfig>& configurations) {
  nlohmann::json j;
  j["step"] = r.step;
  j["policy"] = r.policy;
  j["decision"] = r.decision;
  j["explored"] = r.explored;
  nlohmann::json picked = nlohmann::json::array();
  for (std::size_t c : r.explored_classes)
    picked.push_back(std::string(objectives::class_name(static_cast<objectives::ObjectiveClass>(c))));
  j["explored_classes"] = picked;
  j["exploration_probability"] = r.exploration_probability;
  if (r.class_floor > 0) {  // objectives.class_floor: the floor and the classes it raised
    j["class_floor"] = r.class_floor;
    nlohmann::json raised = nlohmann::json::array();
    for (std::size_t c : r.floor_raised_classes)
      raised.push_back(std::string(objectives::class_name(static_cast<objectives::ObjectiveClass>(c))));
    j["floor_raised_classes"] = raised;
  }
  j["losses"] = by_name(r.losses, configurations);
  if (!r.rewards.empty()) j["rewards"] = by_name(r.rewards, configurations);
  j["mixture"] = by_name(r.mixture, configurations);
  double per_class[objectives::objective_class_count] = {};
  bool present[objectives::objective_class_count] = {};
  for (std::size_t i = 0; i < configurations.size(); ++i) {
    const auto c = static_cast<std::size_t>(configurations[i].objective_class());
    per_class[c] += r.mixture[i];
    present[c] = true;
  }
  nlohmann::json classes = nlohmann::json::object();
  for (int c = 0; c < objectives::objective_class_count; ++c)
    if (present[c]) classes[std::string(objectives::class_name(static_cast<objectives::ObjectiveClass>(c)))] = per_class[c];
  j["mixture_by_class"] = classes;
  if (r.critic_fit)
    j["critic_fit"] = {{"first_mse", r.critic_fit->first_mse}, {"last_mse", r.critic_fit->last_mse},
                       {"iterations", r.critic_fit->iterations}, {"skipped_steps", r.critic_fit->skipped_steps}};
  if (r.decision == "critic") j["predicted_score"] = r.predicted_score;
  j["history_rows"] = r.history_rows;
  j["warnings"] = r.warnings;
  j["seconds"] = r.seconds;
  j["time"] = {{"validation_s", r.validation_seconds}, {"critic_s", r.critic_seconds},
               {"scoring_s", r.scoring_seconds}, {"policy_s", r.seconds}, {"wait_s", r.wait_seconds}};
  return j.dump();
}

}  // namespace birdie::bandit
