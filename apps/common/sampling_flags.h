// The flags generate and generate_batch share: how to sample (--max-tokens, --temperature,
// --top-k, --top-p, --seed) and the task asked for (--mode, apps/common/generation_prompt.h).
// A count or a seed is read as a non-negative number and cast, so "2.5" tokens are 2.
#pragma once

#include <optional>
#include <string>

#include "apps/common/command_line.h"
#include "data/special_tokens.h"
#include "model/generator.h"

namespace birdie::apps {

struct SamplingFlags {
  model::SamplingOptions options = defaults();
  std::string mode = "ntp";
  std::optional<data::Token> paradigm;  // --mode's paradigm token, once check() has run

  // --max-tokens, --temperature, --top-k, --top-p and --seed, in that order; the help
  // lines of --max-tokens and --seed are the program's.
  void add_to(CommandLine& cli, const std::string& max_tokens_help, const std::string& seed_help);
  // --mode.
  void add_mode(CommandLine& cli);
  // For the program's CommandLine::check: --top-p in (0, 1], then --mode one of the modes
  // (setting `paradigm`); a UsageError otherwise.
  void check();

 private:
  static model::SamplingOptions defaults() {
    model::SamplingOptions o;
    o.max_new_tokens = 64;
    return o;
  }
};

}  // namespace birdie::apps
