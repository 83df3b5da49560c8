#include "apps/common/sampling_flags.h"

#include "apps/common/generation_prompt.h"
#include "engine/error.h"

namespace birdie::apps {

void SamplingFlags::add_to(CommandLine& cli, const std::string& max_tokens_help, const std::string& seed_help) {
  const auto count = as<std::int64_t>(non_negative_number);
  cli.option("--max-tokens", options.max_new_tokens, count, "N", max_tokens_help);
  cli.option("--temperature", options.temperature, non_negative_number, "T", "sampling temperature (default 0: greedy)");
  cli.option("--top-k", options.top_k, count, "K", "sample among the K likeliest tokens (default 0: all)");
  cli.option("--top-p", options.top_p, non_negative_number, "P", "nucleus sampling, in (0, 1] (default 1)");
  cli.option("--seed", options.seed, as<std::uint64_t>(non_negative_number), "S", seed_help);
}

void SamplingFlags::add_mode(CommandLine& cli) {
  cli.option("--mode", mode, "MODE", "the task the model is asked to do (below; default ntp)");
}

void SamplingFlags::check() {
  if (!(options.top_p > 0 && options.top_p <= 1)) throw UsageError("--top-p must be in (0, 1]");
  try {
    paradigm = mode_token(mode);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

}  // namespace birdie::apps
