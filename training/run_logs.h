// Reading back the logs of a run (metrics.jsonl, evaluations.jsonl; training/jsonl_log.h)
// for its plot, a resumed run and the experiment's report. Every line is checked: a field
// missing or of the wrong type is an Error naming the file, the line and the field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace birdie::training {

// A line of metrics.jsonl: {"step": N, "loss": x, ...}, or {"step": N, "skipped": true}.
struct MetricsLine {
  std::int64_t step = 0;
  std::optional<double> loss;  // none for a skipped step
};
// `where` names the line in messages ("runs/x/metrics.jsonl:12").
MetricsLine parse_metrics_line(std::string_view line, const std::string& where);

// What the plot and the report read of a line of evaluations.jsonl.
struct EvaluationLine {
  std::int64_t step = 0;
  std::optional<double> mean_loss;                // over the configurations with a finite loss
  std::map<std::string, double> mixture_by_class;  // class name → probability
};
EvaluationLine parse_evaluation_line(std::string_view line, const std::string& where);

}  // namespace birdie::training
