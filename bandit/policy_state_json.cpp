#include "bandit/policy_state_json.h"

#include "engine/error.h"

namespace birdie::bandit {

nlohmann::json parse_policy_state_json(const PolicyState& state) {
  try {
    return nlohmann::json::parse(state.json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("mixture policy state: not valid JSON (") + e.what() + ")");
  }
}

}  // namespace birdie::bandit
