#include "model/generator.h"

#include "autograd/tape.h"

namespace birdie::model {

std::int32_t sample_token(const Tensor& logits, const SamplingOptions& options, RandomGenerator& rng) {
  BIRDIE_CHECK(logits.numel() > 0, "sample_token: empty logits");
  BIRDIE_CHECK(rng.state().stream == 0, "sample_token: the generator must be on stream 0 (kernels/sampling.h), got ",
               rng.state().stream);
  const std::vector<float> values = logits.to_vector<float>();
  const kernels::SamplingRule rule = options.rule();
  const std::uint64_t counter = rule.temperature > 0 ? rng.reserve_blocks(1) : 0;
  return kernels::cpu::sample_row(values.data(), logits.numel(), rule, rng.state().seed, counter);
}

std::vector<std::int32_t> generate(const LanguageModel& lm, std::span<const std::int32_t> prompt,
                                   std::int32_t start_generating, const SamplingOptions& options,
                                   std::span<const std::int32_t> answer_start) {
  const std::unique_ptr<Decoder> decoder = lm.decoder();
  RandomGenerator rng(options.seed);
  std::vector<std::int32_t> out;
  Tensor logits = decoder->prefill(prompt, start_generating, answer_start);
  while (static_cast<std::int64_t>(out.size()) < options.max_new_tokens) {
    const std::int32_t token = sample_token(logits, options, rng);
    out.push_back(token);
    if (token == options.eos || (options.stop_token && token == *options.stop_token)) break;
    logits = decoder->step(token);
  }
  return out;
}

}  // namespace birdie::model
