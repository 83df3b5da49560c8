#include "bandit/policy_checkpoint.h"

#include <algorithm>

namespace birdie::bandit {

namespace {
const std::string tensor_prefix = std::string(policy_section) + ".";
}

void save_policy(const MixturePolicy& policy, model::TrainingState& state) {
  PolicyState saved;
  policy.save(saved);
  state.sections[policy_section] = saved.json;
  std::erase_if(state.tensors, [](const auto& entry) { return entry.first.starts_with(tensor_prefix); });
  for (auto& [name, tensor] : saved.tensors) state.tensors.emplace_back(tensor_prefix + name, tensor);
}

void restore_policy(MixturePolicy& policy, const model::TrainingState& state) {
  const auto section = state.sections.find(policy_section);
  BIRDIE_CHECK(section != state.sections.end(), "checkpoint has no '", policy_section,
               "' section: it was saved without a mixture policy. Fix: resume from a checkpoint "
               "written by this version of pretrain");
  PolicyState saved;
  saved.json = section->second;
  for (const auto& [name, tensor] : state.tensors)
    if (name.starts_with(tensor_prefix)) saved.tensors.emplace_back(name.substr(tensor_prefix.size()), tensor);
  policy.restore(saved);
}

}  // namespace birdie::bandit
