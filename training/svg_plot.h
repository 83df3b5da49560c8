// Line charts as standalone SVG (no plotting library): the run's losses and the mixture's
// class probabilities over training, refreshed in the run folder at every evaluation.
#pragma once

#include <filesystem>
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
};

// Charts stacked vertically, each with axes, ticks and a legend. Written atomically.
void write_svg_charts(const std::filesystem::path& path, const std::vector<Chart>& charts);

}  // namespace birdie::training
