// Line charts as standalone SVG (no plotting library): the run's losses and the mixture's
// class probabilities over training, refreshed in the run folder at every evaluation.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace birdie::training {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x increasing
  std::vector<std::pair<double, double>> markers = {};  // (x, y): dots in the series' colour
};

// A dashed horizontal line across the chart (e.g. a threshold), labelled at its right end.
struct HorizontalLine {
  double y = 0;
  std::string label;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<PlotSeries> series;
  std::vector<HorizontalLine> lines = {};  // always inside the y range
  // A fixed y range (probabilities and accuracies: 0 to 1) instead of one fitted to the data.
  std::optional<std::pair<double, double>> y_range = {};
};

// An axis a person reads at a glance: ticks every `step`, a round number (1, 2 or 5 × 10^k)
// giving about `intervals` intervals, the axis widened to the ticks around [lo, hi].
struct AxisTicks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;  // lo, lo + step, ..., hi, each rounded to a multiple of step
};
AxisTicks round_axis_ticks(double lo, double hi, int intervals = 5);

// Charts stacked vertically, each with axes, ticks and a legend. Written atomically.
void write_svg_charts(const std::filesystem::path& path, const std::vector<Chart>& charts);

}  // namespace birdie::training
