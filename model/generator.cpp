#include "model/generator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/tape.h"
#include "kernels/scan_step.h"

namespace birdie::model {

Tensor RecurrentGenerator::prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating) {
  autograd::NoGradGuard no_grad;
  const auto T = static_cast<std::int64_t>(prompt.size()) + 1;
  std::vector<std::int32_t> tokens(prompt.begin(), prompt.end());
  tokens.push_back(start_generating);
  // Reset bits (kernels/scan.h): the sample starts at 0; <sg> is causal (3 when alone).
  std::vector<std::int32_t> reset(T, 0);
  reset[0] = kernels::reset_bits::segment_start;
  reset[T - 1] |= kernels::reset_bits::causal;
  const Device device = lm_.device();
  const Tensor token_tensor = Tensor::from_values<std::int32_t>(tokens, {1, T}).to(device);
  const Tensor reset_tensor = Tensor::from_values<std::int32_t>(reset, {1, T}).to(device);

  states_.clear();
  Tensor x = lm_.embed(token_tensor);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x);
    Tensor state = Tensor::empty({1, lm_.config().state}, kernels::gated_scan_state_dtype(proj.dtype()), device);
    kernels::gated_scan_final_state(proj, reset_tensor, lm_.direction(l), state);
    states_.push_back(state);
    x = lm_.block_output(l, x, autograd::gated_scan(proj, reset_tensor, lm_.direction(l)));
  }
  // Only <sg>'s row goes through the head: a long prompt's full [T, V] logits would cost
  // T times the memory and time for rows nobody reads.
  return host_logits(x.reshape({T, lm_.config().dim}).slice(T - 1, T));
}

Tensor RecurrentGenerator::step(std::int32_t token) {
  BIRDIE_CHECK(!states_.empty(), "RecurrentGenerator::step before prefill");
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const std::int64_t N = lm_.config().state;
  Tensor x = lm_.embed(Tensor::from_values<std::int32_t>({token}, {1, 1}).to(device));
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x).reshape({1, 4 * N});
    Tensor y = Tensor::empty({1, N}, proj.dtype(), device);
    kernels::gated_scan_step(proj, states_[l], lm_.direction(l), y);
    x = lm_.block_output(l, x, y.reshape({1, 1, N}));
  }
  return host_logits(x);
}

Tensor RecurrentGenerator::host_logits(const Tensor& x) const {
  const Tensor logits = lm_.head(x).reshape({lm_.config().vocab});
  return logits.is_cpu() ? logits : logits.to(Device::cpu);
}

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

std::vector<std::int32_t> generate(const GatedSsmLm& lm, std::span<const std::int32_t> prompt,
                                   std::int32_t start_generating, const SamplingOptions& options,
                                   std::span<const std::int32_t> answer_start) {
  RecurrentGenerator generator(lm);
  RandomGenerator rng(options.seed);
  std::vector<std::int32_t> out;
  Tensor logits = generator.prefill(prompt, start_generating);
  for (std::int32_t token : answer_start) logits = generator.step(token);
  while (static_cast<std::int64_t>(out.size()) < options.max_new_tokens) {
    const std::int32_t token = sample_token(logits, options, rng);
    out.push_back(token);
    if (token == options.eos || (options.stop_token && token == *options.stop_token)) break;
    logits = generator.step(token);
  }
  return out;
}

}  // namespace birdie::model
