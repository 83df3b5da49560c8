#include "data/special_tokens.h"

#include "engine/error.h"

namespace birdie::data::special_tokens {

std::string symbol(Token id) {
  static constexpr std::array<std::string_view, first_sentinel> named = {
      "<pad>", "<unk>", "<bos>", "<eos>", "<sg>",
      "<ntp>", "<prefix_lm>", "<infill>", "<autoencode>", "<autoencode_deshuffle>",
      "<copy>", "<deshuffle>", "<selective_copy>",
      "[COPY]", "[START]", "[END]", "[CONTEXT]", "[SEP]", "[DONE]"};
  BIRDIE_CHECK(id >= 0 && id < reserved_count, "special_tokens::symbol: id ", id,
               " is not reserved (reserved ids are 0..", reserved_count - 1, ")");
  if (id < first_sentinel) return std::string(named[static_cast<std::size_t>(id)]);
  return "<extra_id_" + std::to_string(id - first_sentinel) + ">";
}

}  // namespace birdie::data::special_tokens
