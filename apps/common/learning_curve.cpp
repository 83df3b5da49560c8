#include "apps/common/learning_curve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace birdie::apps {

std::optional<int> steps_to_threshold(const std::vector<training::CurvePoint>& curve, double threshold) {
  for (const training::CurvePoint& point : curve)
    if (point.accuracy >= threshold) return point.step;
  return std::nullopt;
}

std::size_t ThresholdSteps::reached() const {
  return static_cast<std::size_t>(
      std::count_if(seeds.begin(), seeds.end(), [](const auto& seed) { return seed.second.has_value(); }));
}

std::optional<double> ThresholdSteps::mean() const {
  if (!all_reached()) return std::nullopt;
  double sum = 0;
  for (const auto& [seed, step] : seeds) sum += *step;
  return sum / double(seeds.size());
}

std::optional<int> ThresholdSteps::min() const {
  if (!all_reached()) return std::nullopt;
  int low = *seeds.front().second;
  for (const auto& [seed, step] : seeds) low = std::min(low, *step);
  return low;
}

std::optional<int> ThresholdSteps::max() const {
  if (!all_reached()) return std::nullopt;
  int high = *seeds.front().second;
  for (const auto& [seed, step] : seeds) high = std::max(high, *step);
  return high;
}

std::string ThresholdSteps::text() const {
  if (seeds.empty()) return "-";
  if (!all_reached()) {
    if (reached() == 0) return "not reached";
    return "not reached by " + std::to_string(seeds.size() - reached()) + " of " + std::to_string(seeds.size()) +
           " seeds";
  }
  char buffer[64];
  const double m = *mean();
  if (seeds.size() == 1) std::snprintf(buffer, sizeof buffer, "%d", *min());
  else if (m == std::floor(m)) std::snprintf(buffer, sizeof buffer, "%.0f (%d-%d)", m, *min(), *max());
  else std::snprintf(buffer, sizeof buffer, "%.1f (%d-%d)", m, *min(), *max());
  return buffer;
}

std::string ThresholdSteps::seeds_text() const {
  std::string out;
  for (const auto& [seed, step] : seeds)
    out += (out.empty() ? "" : ", ") + ("seed " + std::to_string(seed) + ": ") +
           (step ? std::to_string(*step) : std::string("not reached"));
  return out;
}

nlohmann::ordered_json ThresholdSteps::json() const {
  using Json = nlohmann::ordered_json;
  const auto or_null = [](const auto& value) { return value ? Json(*value) : Json(); };
  Json list = Json::array();
  for (const auto& [seed, step] : seeds) list.push_back({{"seed", seed}, {"step", or_null(step)}});
  return {{"seeds", list},        {"reached", reached()}, {"of", seeds.size()},
          {"mean", or_null(mean())}, {"min", or_null(min())}, {"max", or_null(max())}};
}

}  // namespace birdie::apps
