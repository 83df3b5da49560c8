// The charts every program writes (training/svg_plot): axes a person reads at a glance,
// ticks at round steps (1, 2 or 5 × 10^k) that cover the data, probabilities from 0 to 1.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <regex>

#include "training/svg_plot.h"
#include "data/temporary_folder.h"

using namespace birdie;

namespace {

// The mantissa of a round step: 1, 2 or 5.
bool is_round_step(double step) {
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::abs(mantissa - m) < 1e-9 * m) return true;
  return false;
}

void check_axis(double lo, double hi) {
  CAPTURE(lo);
  CAPTURE(hi);
  const training::AxisTicks ticks = training::round_axis_ticks(lo, hi);
  CHECK(is_round_step(ticks.step));
  // Covering the data, within rounding (0.6 = 3 × 0.2 may come out an ulp above 0.6).
  CHECK(ticks.lo <= lo + 1e-9 * ticks.step);
  CHECK(ticks.hi >= hi - 1e-9 * ticks.step);
  REQUIRE(ticks.values.size() >= 2);
  CHECK(ticks.values.size() <= 12);
  CHECK(ticks.values.front() == ticks.lo);
  CHECK(ticks.values.back() == ticks.hi);
  for (double v : ticks.values) {
    const double k = v / ticks.step;
    CHECK(std::abs(k - std::round(k)) < 1e-9);
  }
  // No more than one step of empty axis on either side.
  CHECK(lo - ticks.lo < ticks.step * (1 + 1e-9));
  CHECK(ticks.hi - hi < ticks.step * (1 + 1e-9));
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The text of every tick label, in the order written.
std::vector<std::string> tick_labels(const std::string& svg) {
  static const std::regex label("font-size='11'>([^<]*)</text>");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace

TEST_CASE("axis ticks: round steps covering the data, for the ranges runs produce") {
  check_axis(0, 1);
  check_axis(1, 240);
  check_axis(8.873, 60.75);
  check_axis(2.91, 8.873);
  check_axis(-0.048, 1.018);
  check_axis(0.2004, 0.2009);
  check_axis(-3e6, 7e7);
  const training::AxisTicks point = training::round_axis_ticks(5, 5);  // one value: a unit axis above it
  CHECK(point.lo == 5);
  CHECK(point.hi == 6);
  const training::AxisTicks unit = training::round_axis_ticks(0, 1);
  CHECK(unit.step == doctest::Approx(0.2));
  CHECK(unit.values.size() == 6);
  const training::AxisTicks steps = training::round_axis_ticks(1, 240);
  CHECK(steps.step == 50);
  CHECK(steps.lo == 0);
  CHECK(steps.hi == 250);
}

TEST_CASE("a written chart: loss ticks at round values, probabilities from 0 to 1") {
  data::testing::TemporaryFolder dir("birdie_svg_plot");
  training::Chart loss{"Loss", "step", "cross-entropy", {{"train", {{1, 8.873}, {120, 4.1}, {240, 2.91}}}}};
  training::Chart mixture{"Mixture", "step", "probability", {{"copying", {{1, 0.02}, {240, 0.61}}}}};
  mixture.y_range = {{0.0, 1.0}};
  const auto path = dir.path / "plot.svg";
  training::write_svg_charts(path, {loss, mixture});
  const std::vector<std::string> labels = tick_labels(read(path));
  // x 0..250 by 50 and y 2..10 by 2 for the loss; x 0..250 by 50 and y 0..1 by 0.2 for the mixture.
  const std::vector<std::string> expected = {"0",   "50",  "100", "150", "200", "250", "2",   "4",   "6",
                                             "8",   "10",  "0",   "50",  "100", "150", "200", "250", "0",
                                             "0.2", "0.4", "0.6", "0.8", "1"};
  CHECK(labels == expected);
}
