// Generation with the Transformer's KV cache: prefill runs prompt ‖ <sg> through the
// blocks once (the prefix layers attend over the prompt both ways) and keeps every layer's
// rotated keys and values; each new token computes its own q, k, v at its position,
// appends k and v, and attends over the cache (kernels/attention_decode.h). Exact for the
// prefix layers too: a prompt token never sees a token outside the prompt, so its cached
// key and value never change. A token costs O(length) time; the cache holds 2·L·D values
// per token and doubles its capacity when full (no reallocation per token).
//
// Many sequences continue together in a TransformerBatchDecoder (model/batch_decoder.h):
// a cache per row [B, capacity, H, Dh] sized once for every step to come, and each row's
// length on the device (kernels/attention_decode.h's batched forms), so the step's
// launches are the same whatever the lengths. Its step writes into buffers made once for
// the batch, accumulates both output projections into the residual stream (beta = 1: no
// separate adds) and has the head write the logits in place.
#pragma once

#include <vector>

#include "model/batch_decoder.h"
#include "model/transformer/transformer_lm.h"

namespace birdie::model {

class TransformerDecoder : public Decoder {
 public:
  explicit TransformerDecoder(const TransformerLm& lm) : lm_(lm) {}
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                 std::span<const std::int32_t> causal = {}) override;
  Tensor step(std::int32_t token) override;

  // Tokens held in the cache (prompt, <sg> and the tokens fed since), and room for them.
  std::int64_t length() const { return length_; }
  std::int64_t capacity() const { return layers_.empty() ? 0 : layers_.front().keys.dim(0); }
  // Layer l's cached rotated keys and values, [length, H, Dh].
  Tensor keys(std::int64_t layer) const { return layers_.at(layer).keys.slice(0, length_); }
  Tensor values(std::int64_t layer) const { return layers_.at(layer).values.slice(0, length_); }

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

class TransformerBatchDecoder : public BatchDecoder {
 public:
  // rows: TransformerDecoders of `lm` after their prefill; room for `steps` more tokens each.
  TransformerBatchDecoder(const TransformerLm& lm, std::span<Decoder* const> rows, std::int64_t steps);
  void step(const Tensor& tokens, Tensor& logits) override;

 private:
  const TransformerLm& lm_;
  std::vector<Tensor> keys_, values_;  // per block [B, capacity, H, Dh]
  Tensor positions_;                   // [B] i32: each row's cached tokens
  // The step's work buffers: the residual stream x, its norm, q, k, v and the attention's
  // output [B, D] (viewed as [B, H, Dh]); the norm's statistics [B]; the MLP's gate, its
  // GeLU and the up projection [B, M].
  Tensor x_, normed_, q_, k_, v_, attended_, inv_rms_, gate_, activated_, up_;
};

}  // namespace birdie::model
