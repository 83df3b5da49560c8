// A floor on each objective class's share of the reward-driven mixture
// (objectives.class_floor, off by default).
//
// The critic's reward follows recent loss decreases, so it can starve a class whose loss
// falls slowly at first (copying, selective copying, deshuffling: the classes that teach
// retrieval). The reference design has no hard bound: it relies on exploration (ε ≥ 0.2,
// every class not picked keeps a small mass) and on averaging the top candidates. With a
// floor f, every class present in the grid gets at least f of every mixture the policy
// hands out:
//   - a class whose share is below f is raised to exactly f, its configurations keeping
//     their proportions (a class with no weight at all gets f spread evenly over them);
//   - the other classes share what is left, 1 − f · (classes raised), in proportion to
//     their shares, so their own within-class proportions are kept too; scaling them down
//     may take another class under f, which is then raised as well (repeated until none is).
// f = 0 changes nothing, and a mixture already at or above the floor is returned as it is.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace birdie::bandit {

// The number of non-empty classes in `classes` (configuration indices per class).
std::size_t classes_present(const std::vector<std::vector<std::size_t>>& classes);

// Throws unless 0 ≤ floor and floor × classes_present ≤ 1; the message names `key` (the
// setting, e.g. "objectives.class_floor") and says `where` it comes from.
void check_class_floor(double floor, std::size_t classes_present, const std::string& key,
                       const std::string& where);

// `weights` (non-negative, positive total; normalized here) with the floor applied.
// `classes`: configuration indices per class; configurations in no class keep the common
// scale of the classes not raised. `raised` (optional) receives the indices of the classes
// raised to the floor.
std::vector<double> apply_class_floor(const std::vector<double>& weights,
                                      const std::vector<std::vector<std::size_t>>& classes, double floor,
                                      std::vector<std::size_t>* raised = nullptr);

}  // namespace birdie::bandit
