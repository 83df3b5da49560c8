#include "data/token_source.h"

#include "engine/error.h"

namespace birdie::data {

VectorTokenSource::VectorTokenSource(std::vector<Token> tokens) : tokens_(std::move(tokens)) {
  BIRDIE_CHECK(!tokens_.empty(), "VectorTokenSource: no tokens");
}

void VectorTokenSource::read(std::size_t offset, std::size_t count, std::vector<Token>& out) const {
  std::size_t pos = offset % tokens_.size();
  while (count > 0) {
    const std::size_t take = std::min(count, tokens_.size() - pos);
    out.insert(out.end(), tokens_.begin() + static_cast<std::ptrdiff_t>(pos),
               tokens_.begin() + static_cast<std::ptrdiff_t>(pos + take));
    count -= take;
    pos = 0;
  }
}

}  // namespace birdie::data
