// Candidate mixtures for the critic to score (docs/method.md §4): `uniform` points drawn
// uniformly on the simplex (Dirichlet(1): normalized exponentials -log(1-u)) followed by
// `sharpened` further independent draws raised element-wise to `power` and renormalized.
// Row-major [uniform + sharpened, n] f32 (the critic's dtype); each row sums to 1.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace birdie::bandit {

Tensor draw_candidate_mixtures(std::int64_t configurations, std::int64_t uniform,
                               std::int64_t sharpened, double power, RandomGenerator& rng);

// One Dirichlet(1) draw of length n (n ≥ 1), in double precision.
std::vector<double> draw_simplex_point(std::size_t n, RandomGenerator& rng);

}  // namespace birdie::bandit
