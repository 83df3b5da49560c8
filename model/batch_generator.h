// Generation for many prompts at once, the decoding loop on the device: each prompt goes
// through its own decoder's prefill (prompt, <sg> and causal start in one pass), then the rows
// continue together (model/batch_decoder.h). Every token is sampled on the device
// (kernels/sampling.h) and fed to the next step where it lies; each row's tokens, count
// and stop flag stay there too (kernels::record_tokens), and the host reads only the rows'
// done flags every `check_every` steps (to stop once every row is done) and the tokens at
// the end. A row stops on its own at <eos>, at the stop token or after max_new_tokens; the
// batch runs until every row has stopped.
//
// On a GPU the step (decoder step, sampling, bookkeeping) is captured once in a CUDA graph
// after a first plain step (which also makes cuBLASLt's plans and workspace, something a
// capture cannot do) and replayed for every later token; `graph = false` keeps the plain
// launches, for debugging and to compare the two.
//
// Row b's tokens depend on its prompt, answer start and seed alone: they are the tokens
// model::generate gives for that prompt with options.seed = the row's seed (sampled on the
// same rule and Philox blocks; the logits of a batched step equal a single row's up to the
// summation order of the matrix products).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/generator.h"

namespace birdie::model {

struct GenerationRequest {
  std::vector<std::int32_t> prompt;        // the prefix, read before <sg>
  std::vector<std::int32_t> answer_start;  // fed causally after <sg>; not returned
  std::uint64_t seed = 0;                  // the row's sampling stream (options.seed is not read)
};

struct BatchOptions {
  bool graph = true;              // capture the step in a CUDA graph on a GPU (ignored on the CPU)
  std::int64_t check_every = 16;  // steps between two reads of the rows' done flags
};

struct BatchGeneration {
  std::vector<std::vector<std::int32_t>> tokens;  // per request, with the stop token if reached
  std::int64_t steps = 0;                         // decoding steps run (each over every row)
  bool graph = false;                             // whether a CUDA graph replayed them
  // The steady state, for benchmarks: the steps after the first two (which set up
  // cuBLASLt's plans and capture the graph) and their wall time, to the tokens' arrival on
  // the host. 0 when there were no such steps.
  std::int64_t timed_steps = 0;
  double timed_seconds = 0;
};

BatchGeneration generate_batch(const LanguageModel& lm, std::span<const GenerationRequest> requests,
                               std::int32_t start_generating, const SamplingOptions& options,
                               const BatchOptions& batch = {});

}  // namespace birdie::model
