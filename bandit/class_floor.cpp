#include "bandit/class_floor.h"

#include <cmath>

#include "engine/error.h"

namespace birdie::bandit {

std::size_t classes_present(const std::vector<std::vector<std::size_t>>& classes) {
  std::size_t present = 0;
  for (const auto& members : classes) present += !members.empty();
  return present;
}

void check_class_floor(double floor, std::size_t present, const std::string& key, const std::string& where) {
  BIRDIE_CHECK(std::isfinite(floor) && floor >= 0, where, ": ", key, " = ", floor,
               " must be a share ≥ 0 (0: no floor, e.g. 0.05: every class at least 5% of the mixture)");
  BIRDIE_CHECK(floor * double(present) <= 1.0 + 1e-12, where, ": ", key, " = ", floor, " with ", present,
               " objective classes in the grid asks for ", floor * double(present),
               " of the mixture; floor × classes must be ≤ 1. Fix: at most ", 1.0 / double(present));
}

std::vector<double> apply_class_floor(const std::vector<double>& weights,
                                      const std::vector<std::vector<std::size_t>>& classes, double floor,
                                      std::vector<std::size_t>* raised_out) {
  if (raised_out) raised_out->clear();
  if (floor <= 0) return weights;
  check_class_floor(floor, classes_present(classes), "the class floor", "apply_class_floor");
  double total = 0;
  for (double w : weights) {
    BIRDIE_CHECK(std::isfinite(w) && w >= 0, "apply_class_floor: weights must be finite and non-negative, got ", w);
    total += w;
  }
  BIRDIE_CHECK(total > 0, "apply_class_floor: the weights sum to 0");
  std::vector<double> share(classes.size(), 0.0);  // of the normalized mixture
  for (std::size_t c = 0; c < classes.size(); ++c)
    for (std::size_t i : classes[c]) {
      BIRDIE_CHECK(i < weights.size(), "apply_class_floor: configuration ", i, " outside the ", weights.size(),
                   " weights");
      share[c] += weights[i] / total;
    }

  // Raise the classes under the floor; the rest shrink by `scale`, which may take another
  // class under it: repeat until none is (at most one pass per class).
  std::vector<bool> raised(classes.size(), false);
  std::size_t raised_count = 0;
  double raised_share = 0, scale = 1;
  for (bool changed = true; changed;) {
    changed = false;
    const double left = 1.0 - floor * double(raised_count), free_share = 1.0 - raised_share;
    scale = free_share > 0 ? left / free_share : 0.0;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      if (raised[c] || classes[c].empty() || share[c] * scale >= floor) continue;
      raised[c] = changed = true;
      ++raised_count;
      raised_share += share[c];
    }
  }
  if (raised_count == 0) return weights;

  std::vector<double> out(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) out[i] = weights[i] / total * scale;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    if (!raised[c]) continue;
    if (raised_out) raised_out->push_back(c);
    const auto& members = classes[c];
    for (std::size_t i : members)
      out[i] = share[c] > 0 ? floor * (weights[i] / total) / share[c] : floor / double(members.size());
  }
  return out;
}

}  // namespace birdie::bandit
