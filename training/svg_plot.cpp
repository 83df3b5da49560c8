#include "training/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "engine/atomic_file.h"

namespace birdie::training {

namespace {

constexpr double width = 900, chart_height = 320, margin_left = 70, margin_right = 210, margin_top = 40,
                 margin_bottom = 50;
constexpr const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v == 0 ? 0.0 : v);  // never "-0"
  return buffer;
}

void draw_chart(std::ostringstream& svg, const Chart& chart, double top) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : chart.series)
    for (const auto* points : {&s.points, &s.markers})
      for (auto [x, y] : *points) {
        if (!std::isfinite(y)) continue;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  for (const auto& line : chart.lines)
    if (std::isfinite(line.y)) y0 = std::min(y0, line.y), y1 = std::max(y1, line.y);
  if (chart.y_range) y0 = chart.y_range->first, y1 = chart.y_range->second;
  const AxisTicks x_ticks = round_axis_ticks(x0, x1), y_ticks = round_axis_ticks(y0, y1);
  x0 = x_ticks.lo, x1 = x_ticks.hi, y0 = y_ticks.lo, y1 = y_ticks.hi;
  const double plot_w = width - margin_left - margin_right, plot_h = chart_height - margin_top - margin_bottom;
  auto px = [&](double x) { return margin_left + (x - x0) / (x1 - x0) * plot_w; };
  auto py = [&](double y) { return top + margin_top + (1 - (y - y0) / (y1 - y0)) * plot_h; };

  svg << "<text x='" << width / 2 - margin_right / 2 << "' y='" << top + 24
      << "' text-anchor='middle' font-size='16' font-weight='bold'>" << escape(chart.title) << "</text>\n";
  svg << "<rect x='" << margin_left << "' y='" << top + margin_top << "' width='" << plot_w << "' height='" << plot_h
      << "' fill='none' stroke='#444'/>\n";
  for (double fx : x_ticks.values)
    svg << "<line x1='" << px(fx) << "' y1='" << top + margin_top << "' x2='" << px(fx) << "' y2='"
        << top + margin_top + plot_h << "' stroke='#ddd'/>\n"
        << "<text x='" << px(fx) << "' y='" << top + margin_top + plot_h + 16 << "' text-anchor='middle' font-size='11'>"
        << number(fx) << "</text>\n";
  for (double fy : y_ticks.values)
    svg << "<line x1='" << margin_left << "' y1='" << py(fy) << "' x2='" << margin_left + plot_w << "' y2='" << py(fy)
        << "' stroke='#ddd'/>\n"
        << "<text x='" << margin_left - 6 << "' y='" << py(fy) + 4 << "' text-anchor='end' font-size='11'>" << number(fy)
        << "</text>\n";
  svg << "<text x='" << margin_left + plot_w / 2 << "' y='" << top + chart_height - 10
      << "' text-anchor='middle' font-size='12'>" << escape(chart.x_label) << "</text>\n"
      << "<text transform='translate(16," << top + margin_top + plot_h / 2
      << ") rotate(-90)' text-anchor='middle' font-size='12'>" << escape(chart.y_label) << "</text>\n";
  for (const auto& line : chart.lines) {
    if (!std::isfinite(line.y)) continue;
    svg << "<line x1='" << margin_left << "' y1='" << py(line.y) << "' x2='" << margin_left + plot_w << "' y2='"
        << py(line.y) << "' stroke='#555' stroke-width='1.2' stroke-dasharray='6,4'/>\n"
        << "<text x='" << margin_left + plot_w - 4 << "' y='" << py(line.y) - 5
        << "' text-anchor='end' font-size='11' fill='#555'>" << escape(line.label) << "</text>\n";
  }
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const auto& s = chart.series[k];
    const char* color = palette[k % std::size(palette)];
    svg << "<polyline fill='none' stroke='" << color << "' stroke-width='1.8' points='";
    for (auto [x, y] : s.points)
      if (std::isfinite(y)) svg << px(x) << ',' << py(y) << ' ';
    svg << "'/>\n";
    for (auto [x, y] : s.markers)
      if (std::isfinite(y))
        svg << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='4.5' fill='" << color
            << "' stroke='white' stroke-width='1'/>\n";
    const double ly = top + margin_top + 14 + 18 * double(k);
    svg << "<line x1='" << width - margin_right + 15 << "' y1='" << ly - 4 << "' x2='" << width - margin_right + 35
        << "' y2='" << ly - 4 << "' stroke='" << color << "' stroke-width='3'/>\n"
        << "<text x='" << width - margin_right + 40 << "' y='" << ly << "' font-size='12'>" << escape(s.name)
        << "</text>\n";
  }
}

}  // namespace

AxisTicks round_axis_ticks(double lo, double hi, int intervals) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(intervals, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * magnitude * (1 + 1e-9)) {
      step = m * magnitude;
      break;
    }
  // Tolerances so that a bound already on a tick (0, 1, 0.6 from 3 × 0.2) stays put.
  const auto first = static_cast<long long>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<long long>(std::ceil(hi / step - 1e-9));
  AxisTicks ticks{double(first) * step, double(last) * step, step, {}};
  for (long long i = first; i <= last; ++i) ticks.values.push_back(double(i) * step);
  return ticks;
}

void write_svg_charts(const std::filesystem::path& path, const std::vector<Chart>& charts) {
  std::ostringstream svg;
  const double height = chart_height * double(std::max<std::size_t>(charts.size(), 1));
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
      << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
  for (std::size_t i = 0; i < charts.size(); ++i) draw_chart(svg, charts[i], chart_height * double(i));
  svg << "</svg>\n";
  write_file_atomically(path, svg.str());
}

}  // namespace birdie::training
