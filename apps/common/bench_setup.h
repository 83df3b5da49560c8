// What the benchmarks of a model configuration (step_bench, decode_bench) start from: the
// device of --device, the configuration --model names and the compute dtype --precision
// gives on that device.
#pragma once

#include <string>

#include "engine/device.h"
#include "engine/dtype.h"
#include "model/model_config.h"

namespace birdie::apps {

struct BenchSetup {
  Device device;
  model::ModelConfig config;
  DType compute;
};

// Throws an Error when --device cuda finds no GPU (or the build has no CUDA backend), or
// when the configuration cannot be read.
BenchSetup bench_setup(const std::string& model, const std::string& device, const std::string& precision);

}  // namespace birdie::apps
