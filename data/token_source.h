// A read-only stream of tokens that batches are cut from: the concatenated documents of
// one split (each document ends with <eos>). Reads wrap around at the end, so any offset
// is valid and an epoch boundary needs no special case.
#pragma once

#include <cstddef>
#include <vector>

#include "data/special_tokens.h"

namespace birdie::data {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual std::size_t size() const = 0;
  // Appends `count` tokens starting at `offset` modulo size() to `out`.
  virtual void read(std::size_t offset, std::size_t count, std::vector<Token>& out) const = 0;
};

// Tokens held in memory (tests, validation text, generated tasks).
class VectorTokenSource final : public TokenSource {
 public:
  explicit VectorTokenSource(std::vector<Token> tokens);
  std::size_t size() const override { return tokens_.size(); }
  void read(std::size_t offset, std::size_t count, std::vector<Token>& out) const override;

 private:
  std::vector<Token> tokens_;
};

}  // namespace birdie::data
