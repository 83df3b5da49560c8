#include "model/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/tape.h"

namespace birdie::model {

std::int32_t sample_token(const Tensor& logits, const SamplingOptions& options, RandomGenerator& rng) {
  const std::vector<double> values = logits.to_vector<double>();
  BIRDIE_CHECK(!values.empty(), "sample_token: empty logits");
  if (options.temperature <= 0)
    return static_cast<std::int32_t>(std::max_element(values.begin(), values.end()) - values.begin());
  std::vector<std::int32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return values[a] > values[b]; });
  std::size_t keep = order.size();
  if (options.top_k > 0) keep = std::min<std::size_t>(keep, options.top_k);
  std::vector<double> probabilities(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i)
    total += probabilities[i] = std::exp((values[order[i]] - values[order[0]]) / options.temperature);
  if (options.top_p < 1.0) {
    double mass = 0;
    std::size_t nucleus = 0;
    while (nucleus < keep && mass < options.top_p * total) mass += probabilities[nucleus++];
    keep = std::max<std::size_t>(nucleus, 1);
    total = mass;
  }
  double u = rng.uniform() * total;
  for (std::size_t i = 0; i < keep; ++i) {
    u -= probabilities[i];
    if (u < 0) return order[i];
  }
  return order[keep - 1];
}

std::vector<std::int32_t> generate(const LanguageModel& lm, std::span<const std::int32_t> prompt,
                                   std::int32_t start_generating, const SamplingOptions& options,
                                   std::span<const std::int32_t> answer_start) {
  const std::unique_ptr<Decoder> decoder = lm.decoder();
  RandomGenerator rng(options.seed);
  std::vector<std::int32_t> out;
  Tensor logits = decoder->prefill(prompt, start_generating);
  for (std::int32_t token : answer_start) logits = decoder->step(token);
  while (static_cast<std::int64_t>(out.size()) < options.max_new_tokens) {
    const std::int32_t token = sample_token(logits, options, rng);
    out.push_back(token);
    if (token == options.eos || (options.stop_token && token == *options.stop_token)) break;
    logits = decoder->step(token);
  }
  return out;
}

}  // namespace birdie::model
