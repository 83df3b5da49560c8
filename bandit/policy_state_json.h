// The JSON half of a PolicyState (mixture_policy.h), read back by each policy's restore().
#pragma once

#include <nlohmann/json.hpp>

#include "bandit/mixture_policy.h"

namespace birdie::bandit {

// Throws, naming the policy state, when the text is not JSON.
nlohmann::json parse_policy_state_json(const PolicyState& state);

}  // namespace birdie::bandit
