// An objective grid (configs/objectives/*_grid.toml): paradigm placement and the list of
// objective configurations, each checked for impossible parameters.
#include "objectives/mixture.h"
#include "objectives/objective_grid.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzzed-grid.toml";
  fuzz::expect_clear_refusal(source, [&] {
    const objectives::ObjectiveGrid grid = objectives::parse_objective_grid(fuzz::as_text(data, size), source);
    fuzz::require(!grid.configs.empty(), "an accepted grid has configurations");
    for (const auto& config : grid.configs) {
      fuzz::require(objectives::configuration_problem(config).empty(), "an accepted configuration is possible");
      (void)objectives::describe(config);
    }
    (void)objectives::uniform_mixture(grid);
  });
  return 0;
}
