#include "model/batch_generator.h"

#include <algorithm>
#include <optional>

#include "autograd/tape.h"
#include "engine/cuda_graph.h"
#include "engine/timer.h"
#include "kernels/sampling.h"
#include "model/batch_decoder.h"

namespace birdie::model {

namespace {

bool every_row_done(const Tensor& done) {
  const std::vector<std::int32_t> flags = done.to_vector<std::int32_t>();
  return std::all_of(flags.begin(), flags.end(), [](std::int32_t f) { return f != 0; });
}

}  // namespace

BatchGeneration generate_batch(const LanguageModel& lm, std::span<const GenerationRequest> requests,
                               std::int32_t start_generating, const SamplingOptions& options,
                               const BatchOptions& batch) {
  BIRDIE_CHECK(!requests.empty(), "generate_batch: no requests");
  BIRDIE_CHECK(options.max_new_tokens >= 0, "generate_batch: max_new_tokens must not be negative, got ",
               options.max_new_tokens);
  BIRDIE_CHECK(batch.check_every >= 1, "generate_batch: check_every must be at least 1, got ", batch.check_every);
  const std::int64_t B = static_cast<std::int64_t>(requests.size()), M = options.max_new_tokens;
  BatchGeneration result;
  result.tokens.resize(requests.size());
  if (M == 0) return result;
  autograd::NoGradGuard no_grad;
  const Device device = lm.device();
  // One stream for all of it: a capture cannot use the default one.
  const PrivateStream stream(device);

  std::vector<Tensor> first_logits;
  std::unique_ptr<BatchDecoder> decoder;
  {
    std::vector<std::unique_ptr<Decoder>> rows;
    std::vector<Decoder*> row_pointers;
    for (const GenerationRequest& request : requests) {
      rows.push_back(lm.decoder());
      const Tensor logits = rows.back()->prefill(request.prompt, start_generating, request.answer_start);
      first_logits.push_back(logits.reshape({1, logits.numel()}));
      row_pointers.push_back(rows.back().get());
    }
    decoder = lm.batch_decoder(row_pointers, M - 1);
  }
  Tensor logits = stack_rows(first_logits).to(device);

  std::vector<std::int32_t> seed_words;
  for (const GenerationRequest& request : requests) {
    seed_words.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(request.seed)));
    seed_words.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(request.seed >> 32)));
  }
  const Tensor seeds = Tensor::from_values<std::int32_t>(seed_words, {B, 2}).to(device);
  Tensor counters = Tensor::zeros({B}, DType::i32, device);
  Tensor tokens = Tensor::zeros({B}, DType::i32, device);
  Tensor out = Tensor::zeros({B, M}, DType::i32, device);
  Tensor counts = Tensor::zeros({B}, DType::i32, device);
  Tensor done = Tensor::zeros({B}, DType::i32, device);
  const kernels::SamplingRule rule = options.rule();
  const std::int32_t stop = options.stop_token.value_or(-1);

  auto sample = [&] {
    kernels::sample_tokens(logits, rule, seeds, counters, tokens);
    kernels::record_tokens(tokens, options.eos, stop, out, counts, done);
  };
  auto one_token = [&] {
    decoder->step(tokens, logits);
    sample();
  };

  sample();
  const bool use_graph = batch.graph && device == Device::cuda;
  std::optional<LaunchGraph> graph;
  std::optional<Stopwatch> timed;
  for (std::int64_t s = 0; s < M - 1; ++s) {
    if (s % batch.check_every == 0 && every_row_done(done)) break;
    if (s == 2) {
      (void)every_row_done(done);  // waits for the device: the timing starts from here
      timed.emplace();
    }
    if (use_graph && s > 0) {
      if (!graph) graph.emplace(one_token);
      graph->replay();
    } else {
      one_token();
    }
    ++result.steps;
  }
  result.graph = graph.has_value();

  const std::vector<std::int32_t> generated = out.to_vector<std::int32_t>();
  const std::vector<std::int32_t> lengths = counts.to_vector<std::int32_t>();
  if (timed) {
    result.timed_seconds = timed->seconds();
    result.timed_steps = result.steps - 2;
  }
  for (std::int64_t b = 0; b < B; ++b)
    result.tokens[b].assign(generated.begin() + b * M, generated.begin() + b * M + lengths[b]);
  return result;
}

}  // namespace birdie::model
