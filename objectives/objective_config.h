// A configuration = objective class + parameters + paradigm-token placement: one arm of
// the mixture (docs/method.md §3).
#pragma once

#include <span>
#include <string>

#include "engine/random.h"
#include "objectives/objective_params.h"
#include "objectives/sample.h"

namespace birdie::objectives {

// Where the paradigm token goes: "random" = start of the prompt with probability 0.5,
// otherwise at its end (just before <sg>); "prefix" = always at the start; "suffix" =
// always at the end; "none" = no paradigm token.
enum class ParadigmPlacement { random, prefix, suffix, none };

std::string_view placement_name(ParadigmPlacement placement);

struct ObjectiveConfig {
  std::string name;
  ObjectiveParams params;
  ParadigmPlacement paradigm = ParadigmPlacement::random;

  ObjectiveClass objective_class() const { return static_cast<ObjectiveClass>(params.index()); }
  bool operator==(const ObjectiveConfig&) const = default;
};

// The paradigm token of a configuration: one per class, autoencoding with deshuffle has
// its own.
Token paradigm_token(const ObjectiveConfig& config);

// Inserts the paradigm token into the prompt according to the placement (one uniform draw
// for "random", none otherwise).
void place_paradigm_token(Sample& sample, const ObjectiveConfig& config, RandomGenerator& rng);

// The objective of `config` applied to `text`, paradigm token included, occupying at most
// `budget` row positions (|prompt| + |label|).
Sample make_sample(const ObjectiveConfig& config, std::span<const Token> text, int budget,
                   RandomGenerator& rng);

// A one-line description of the parameters, e.g. "infilling corruption_rate=0.15
// mean_span=3 max_len=512 paradigm=random", for error messages and logs.
std::string describe(const ObjectiveConfig& config);

}  // namespace birdie::objectives
