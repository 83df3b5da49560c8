#include "training/run_plot.h"

#include <map>
#include <string>

#include "training/run_logs.h"
#include "training/svg_plot.h"

namespace birdie::training {

void write_run_plot(const Run& run) {
  Chart losses{"Loss", "step", "cross-entropy", {{"train (per token)", {}}, {"validation (mean of configs)", {}}}};
  Chart mixture{"Mixture by objective class", "step", "probability", {}};
  mixture.y_range = {{0.0, 1.0}};
  std::map<std::string, PlotSeries> classes;
  const auto where = [](const JsonlLog& log, std::size_t i) { return log.path().string() + ":" + std::to_string(i + 1); };
  for (std::size_t i = 0; i < run.metrics->lines().size(); ++i) {
    const MetricsLine m = parse_metrics_line(run.metrics->lines()[i], where(*run.metrics, i));
    if (m.loss) losses.series[0].points.emplace_back(double(m.step), *m.loss);
  }
  for (std::size_t i = 0; i < run.evaluations->lines().size(); ++i) {
    const EvaluationLine e = parse_evaluation_line(run.evaluations->lines()[i], where(*run.evaluations, i));
    if (e.mean_loss) losses.series[1].points.emplace_back(double(e.step), *e.mean_loss);
    for (const auto& [name, p] : e.mixture_by_class) {
      classes[name].name = name;
      classes[name].points.emplace_back(double(e.step), p);
    }
  }
  for (auto& [name, series] : classes) mixture.series.push_back(series);
  write_svg_charts(run.config.output / "plot.svg", {losses, mixture});
}

}  // namespace birdie::training
