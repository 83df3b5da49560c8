#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "kernels/sampling_rule.h"

namespace birdie::kernels::cpu {

std::int32_t sample_row(const float* logits, std::int64_t V, const SamplingRule& rule, std::uint64_t seed,
                        std::uint64_t counter) {
  using namespace sampling_rule;
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(V));
  std::uint64_t best = 0;
  for (std::int64_t i = 0; i < V; ++i) best = std::max(best, keys[i] = key(logits[i], i));
  if (rule.temperature <= 0) return static_cast<std::int32_t>(key_index(best));

  const float max_logit = key_logit(best);
  auto weight = [&](std::int64_t i) { return mass(logits[i], max_logit, rule.temperature); };
  std::uint64_t threshold = 0;  // the kept tokens: key ≥ threshold
  if (rule.top_k > 0 && rule.top_k < V) {
    std::vector<std::uint64_t> order = keys;
    std::nth_element(order.begin(), order.begin() + (rule.top_k - 1), order.end(), std::greater<>());
    threshold = order[rule.top_k - 1];
  }
  if (rule.top_p < 1.0) {
    std::vector<std::uint64_t> kept;
    for (std::uint64_t k : keys)
      if (k >= threshold) kept.push_back(k);
    std::sort(kept.begin(), kept.end(), std::greater<>());
    std::uint64_t total = 0;
    for (std::uint64_t k : kept) total += weight(key_index(k));
    const std::uint64_t need = nucleus_need(total, rule.top_p);
    std::uint64_t running = 0;
    for (std::uint64_t k : kept)
      if ((running += weight(key_index(k))) >= need) {
        threshold = k;
        break;
      }
  }
  std::uint64_t total = 0;
  for (std::int64_t i = 0; i < V; ++i)
    if (keys[i] >= threshold) total += weight(i);
  const std::uint64_t target = draw_target(seed, counter, total);
  std::uint64_t running = 0;
  for (std::int64_t i = 0; i < V; ++i)
    if (keys[i] >= threshold && (running += weight(i)) > target) return static_cast<std::int32_t>(i);
  return static_cast<std::int32_t>(key_index(best));  // only when no token weighs anything (NaN logits)
}

}  // namespace birdie::kernels::cpu
