#include "training/run_logs.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace birdie::training {

namespace {

nlohmann::json parse_object(std::string_view line, const std::string& where) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  BIRDIE_CHECK(j.is_object(), where, ": expected a JSON object (one record per line)");
  return j;
}

std::int64_t step_of(const nlohmann::json& j, const std::string& where) {
  const auto step = j.find("step");
  BIRDIE_CHECK(step != j.end() && step->is_number_integer() && step->get<std::int64_t>() >= 0, where,
               ": field 'step': expected a whole number ≥ 0");
  return step->get<std::int64_t>();
}

double finite_number(const nlohmann::json& value, const std::string& where, const std::string& field) {
  BIRDIE_CHECK(value.is_number() && std::isfinite(value.get<double>()), where, ": field '", field,
               "': expected a finite number, got ", value.dump());
  return value.get<double>();
}

}  // namespace

MetricsLine parse_metrics_line(std::string_view line, const std::string& where) {
  const nlohmann::json j = parse_object(line, where);
  MetricsLine m;
  m.step = step_of(j, where);
  const auto skipped = j.find("skipped");
  if (skipped != j.end()) {
    BIRDIE_CHECK(skipped->is_boolean(), where, ": field 'skipped': expected true or false");
    if (skipped->get<bool>()) return m;
  }
  const auto loss = j.find("loss");
  BIRDIE_CHECK(loss != j.end(), where, ": field 'loss': missing (a logged step has a loss)");
  m.loss = finite_number(*loss, where, "loss");
  return m;
}

EvaluationLine parse_evaluation_line(std::string_view line, const std::string& where) {
  const nlohmann::json j = parse_object(line, where);
  EvaluationLine e;
  e.step = step_of(j, where);
  const auto losses = j.find("losses");
  BIRDIE_CHECK(losses != j.end() && losses->is_object(), where,
               ": field 'losses': expected an object of configuration name → loss (or null)");
  double total = 0;
  int count = 0;
  for (const auto& [name, loss] : losses->items()) {
    if (loss.is_null()) continue;  // a loss that was not finite
    total += finite_number(loss, where, "losses." + name);
    ++count;
  }
  if (count > 0) e.mean_loss = total / count;
  const auto classes = j.find("mixture_by_class");
  BIRDIE_CHECK(classes != j.end() && classes->is_object(), where,
               ": field 'mixture_by_class': expected an object of class name → probability");
  for (const auto& [name, p] : classes->items()) e.mixture_by_class[name] = finite_number(p, where, "mixture_by_class." + name);
  return e;
}

}  // namespace birdie::training
