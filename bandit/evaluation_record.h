// One evaluation as one JSONL line (nlohmann json), for the training log:
//   {"step":500,"policy":"birdie","decision":"critic","explored":false,
//    "explored_classes":[],"exploration_probability":0.2,
//    "class_floor":0.05,"floor_raised_classes":["copying"],   (only with objectives.class_floor > 0)
//    "losses":{"<config name>":3.1,...},            (a non-finite loss is null)
//    "rewards":{"<config name>":0.08,...},          (absent at the first evaluation)
//    "mixture":{"<config name>":0.01,...},
//    "mixture_by_class":{"infilling":0.4,...},      (classes with configurations)
//    "critic_fit":{"first_mse":..,"last_mse":..,"iterations":200,"skipped_steps":0},
//    "predicted_score":..,"history_rows":3,"warnings":[...],"seconds":2.1}
#pragma once

#include <string>
#include <vector>

#include "bandit/mixture_policy.h"

namespace birdie::bandit {

// `configurations`: the policy's (policy.configurations()), naming the vectors' entries.
std::string to_json_line(const EvaluationRecord& record,
                         const std::vector<objectives::ObjectiveConfig>& configurations);
inline std::string to_json_line(const EvaluationRecord& record, const objectives::ObjectiveGrid& grid) {
  return to_json_line(record, grid.configs);
}

}  // namespace birdie::bandit
