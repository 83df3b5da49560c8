// The mixture policy a run configuration asks for, the evaluations the run can afford, and
// the validation sets an evaluation measures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bandit/evaluation_budget.h"
#include "bandit/mixture_policy.h"
#include "objectives/objective_config.h"
#include "objectives/validation_set.h"
#include "training/run_config.h"

namespace birdie::training {

// objectives.mixture: "birdie", "ntp", "ul2", "uniform", or a weights file (a fixed
// mixture), with the critic's candidates, iterations and the class floor. A default
// RunConfig gives the policy pretrain runs by default.
bandit::MixturePolicyConfig policy_config(const RunConfig& c);

// The evaluations this run can afford within objectives.evaluation_budget
// (bandit/evaluation_budget.h): a training step over the global batch, one evaluation's
// validation passes, and the critic's work where it shares the training's processor.
bandit::EvaluationPlan plan_evaluations(const RunConfig& c, const bandit::MixturePolicyConfig& policy,
                                        std::size_t configurations,
                                        const std::vector<objectives::ValidationSet>& validation, int world_size);

// `samples` validation samples of each configuration, drawn with `seed` from the
// validation split of the run's data and packed as the run packs its rows.
std::vector<objectives::ValidationSet> run_validation_sets(const RunConfig& c,
                                                           const std::vector<objectives::ObjectiveConfig>& configs,
                                                           int samples, std::uint64_t seed);

}  // namespace birdie::training
