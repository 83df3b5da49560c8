// An experiment unit's experiment_state.json (apps/common/experiment_state.h), read when the
// experiment runs again; what is accepted is written back and reads the same.
#include "apps/common/experiment_state.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::write_input("arm/seed-1/experiment_state.json", data, size);
  fuzz::expect_clear_refusal(path.string(), [&] {
    const apps::ExperimentState state = apps::read_experiment_state(path);
    apps::write_experiment_state(path, state);
    fuzz::require(apps::read_experiment_state(path) == state, "the state written back reads the same");
  });
  return 0;
}
