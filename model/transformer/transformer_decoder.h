// Generation with the Transformer's KV cache: prefill runs prompt ‖ <sg> through the
// blocks once (the prefix layers attend over the prompt both ways) and keeps every layer's
// rotated keys and values; each new token computes its own q, k, v at its position,
// appends k and v, and attends over the cache (kernels/attention_decode.h). Exact for the
// prefix layers too: a prompt token never sees a token outside the prompt, so its cached
// key and value never change. A token costs O(length) time; the cache holds 2·L·D values
// per token and doubles its capacity when full (no reallocation per token).
#pragma once

#include <vector>

#include "model/transformer/transformer_lm.h"

namespace birdie::model {

class TransformerDecoder : public Decoder {
 public:
  explicit TransformerDecoder(const TransformerLm& lm) : lm_(lm) {}
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating) override;
  Tensor step(std::int32_t token) override;

  // Tokens held in the cache (prompt, <sg> and the tokens fed since), and room for them.
  std::int64_t length() const { return length_; }
  std::int64_t capacity() const { return layers_.empty() ? 0 : layers_.front().keys.dim(0); }

 private:
  struct LayerCache {
    Tensor keys, values;  // [capacity, H, Dh], rows [0, length) filled
  };
  // Makes room for `rows` tokens (at least doubling the capacity), keeping the filled rows.
  void reserve(std::int64_t rows);

  const TransformerLm& lm_;
  std::vector<LayerCache> layers_;
  std::int64_t length_ = 0;
};

}  // namespace birdie::model
