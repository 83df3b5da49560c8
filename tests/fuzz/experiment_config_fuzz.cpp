// An experiment file (configs/experiments/*.toml: [experiment], [finetune], [evaluation]).
#include "apps/common/experiment_config.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("fuzzed-experiment.toml", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const apps::ExperimentConfig c = apps::load_experiment_config(path, {});
    for (const auto& arm : c.arms) {
      (void)apps::arm_run_file(c, arm);
      (void)apps::arm_overrides(c, arm);
      (void)apps::arm_is_pretrained(c, arm);
    }
  });
  return 0;
}
