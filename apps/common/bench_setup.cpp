#include "apps/common/bench_setup.h"

#include "engine/error.h"
#include "training/run_config.h"

namespace birdie::apps {

BenchSetup bench_setup(const std::string& model, const std::string& device_name, const std::string& precision) {
  const Device device = parse_device(device_name);
  BIRDIE_CHECK(device == Device::cpu || cuda_device_count() > 0,
               "--device cuda but no GPU is visible (or this build has no CUDA backend)");
  const model::ModelConfig config = training::load_model_config(model);
  return {device, config, training::compute_dtype(precision, device)};
}

}  // namespace birdie::apps
