// The experiment's report over its finished units (experiment_units.h), wherever they
// were run: results.json, results.md (accuracy per arm × book size × queries, fine-tuning
// steps to finetune.threshold held-out accuracy per arm and seed, validation loss per
// class, budgets and wall times), accuracy.svg (accuracy against the number of queries,
// one line per arm) and finetune.svg (held-out accuracy against fine-tune steps, the
// threshold dashed, a dot where each seed reaches it), in the output folder; results.md is
// printed too.
#pragma once

#include <vector>

#include "apps/common/experiment_config.h"
#include "apps/common/experiment_units.h"

namespace birdie::apps {

void write_experiment_report(const ExperimentConfig& config, const ExperimentOptions& options,
                             const std::vector<ExperimentUnit>& units);

}  // namespace birdie::apps
