// A mixture weights file (objectives.mixture = "FILE.toml", configs/objectives/
// example_mixture.toml): a [weights] table of configuration name → weight, over the
// default grid.
#include <cmath>

#include "objectives/mixture.h"
#include "objectives/objective_grid.h"
#include "tests/fuzz/harness.h"

using namespace birdie;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const objectives::ObjectiveGrid grid = objectives::load_objective_grid(objectives::default_grid_path());
  const auto path = fuzz::write_input("fuzzed-mixture.toml", data, size);
  fuzz::expect_clear_refusal(path.filename().string(), [&] {
    const objectives::Mixture mixture = objectives::load_mixture_weights(path, grid);
    double total = 0;
    for (double w : mixture.weights) {
      fuzz::require(std::isfinite(w) && w >= 0, "weights are finite and non-negative");
      total += w;
    }
    fuzz::require(std::abs(total - 1) < 1e-9, "weights sum to 1");
  });
  return 0;
}
