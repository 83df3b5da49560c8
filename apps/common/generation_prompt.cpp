#include "apps/common/generation_prompt.h"

#include "engine/error.h"

namespace birdie::apps {

std::optional<data::Token> mode_token(const std::string& mode) {
  if (mode == "none") return std::nullopt;
  for (data::Token id = data::special_tokens::paradigm_next_token; id <= data::special_tokens::paradigm_selective_copying;
       ++id)
    if (data::special_tokens::symbol(id) == "<" + mode + ">") return id;
  throw Error(detail::concat("--mode ", mode, " is not a mode; the modes are ", generation_modes));
}

model::GenerationRequest generation_request(std::span<const data::Token> text, std::optional<data::Token> paradigm) {
  model::GenerationRequest request;
  if (paradigm) request.prompt.push_back(*paradigm);
  // ntp: the paradigm token alone is the prefix and the text is the answer's start.
  if (paradigm == data::special_tokens::paradigm_next_token)
    request.answer_start.assign(text.begin(), text.end());
  else
    request.prompt.insert(request.prompt.end(), text.begin(), text.end());
  return request;
}

}  // namespace birdie::apps
