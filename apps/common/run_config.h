// Forwarding header for the programs that include the run configuration from here: it is
// training/run_config.h (namespace birdie::training).
#pragma once

#include "training/run_config.h"

namespace birdie::apps {

using training::compute_dtype;
using training::load_model_config;

}  // namespace birdie::apps
