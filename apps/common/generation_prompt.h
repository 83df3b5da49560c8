// How generate and generate_batch lay a prompt out for the model. The mode names the
// paradigm token (docs/method.md §1), the task the model is asked to do:
//   ntp            plain continuation: <ntp> alone is the prefix, the text is fed causally
//                  after <sg> (the answer's start) and continued;
//   prefix_lm, infill, autoencode, autoencode_deshuffle, copy, deshuffle, selective_copy
//                  the paradigm token then the text in the bidirectional prefix, the answer
//                  decoded after <sg>;
//   none           the text alone in the prefix.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "data/special_tokens.h"
#include "model/batch_generator.h"

namespace birdie::apps {

inline constexpr const char* generation_modes =
    "ntp (plain continuation), prefix_lm, infill, autoencode, autoencode_deshuffle, copy, deshuffle, "
    "selective_copy, none";

// The paradigm token of a mode name ("prefix_lm" → <prefix_lm>); nullopt for "none".
// Throws an Error naming the mode and the choices otherwise.
std::optional<data::Token> mode_token(const std::string& mode);

// The prefix and the causal answer start of `text` under the mode's paradigm token; the
// request's seed is left 0.
model::GenerationRequest generation_request(std::span<const data::Token> text, std::optional<data::Token> paradigm);

}  // namespace birdie::apps
