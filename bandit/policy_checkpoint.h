// The policy's state inside the training checkpoint (model/checkpoint.h): its JSON in
// TrainingState::sections["bandit"], its tensors in TrainingState::tensors under
// "bandit." + name (critic weights, AdamW moments). Pretrain calls save_policy before
// model::save_checkpoint and restore_policy after model::load_checkpoint.
#pragma once

#include "bandit/mixture_policy.h"
#include "model/checkpoint.h"

namespace birdie::bandit {

constexpr const char* policy_section = "bandit";

// Replaces any earlier "bandit" section and "bandit." tensors.
void save_policy(const MixturePolicy& policy, model::TrainingState& state);
// Throws when the checkpoint has no "bandit" section (or it belongs to another policy).
void restore_policy(MixturePolicy& policy, const model::TrainingState& state);

}  // namespace birdie::bandit
