// Recurrent generation with Hawk (BIRDIE.md §5): the prompt and <sg> go through every block
// in one pass (both directions of the bidirectional blocks), keeping per block the last
// K−1 inputs of the short convolution and the RG-LRU's forward state; then each new token
// is decoded causally with O(1) time and memory per token (kernels/rglru_step.h). As in
// the Gated SSM decoder, a bidirectional block's reverse half carries nothing: a suffix
// token sees only itself there (the convolution's look-ahead and the reverse RG-LRU stop at
// causal tokens), so its output is a function of the token alone.
//
// Many sequences continue together in a HawkBatchDecoder (model/batch_decoder.h): the
// windows and states stacked over the rows, one token per row at each step.
#pragma once

#include <vector>

#include "model/batch_decoder.h"
#include "model/hawk/hawk_lm.h"

namespace birdie::model {

class HawkDecoder : public Decoder {
 public:
  explicit HawkDecoder(const HawkLm& lm) : lm_(lm) {}
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating) override;
  Tensor step(std::int32_t token) override;

  const std::vector<Tensor>& windows() const { return windows_; }
  const std::vector<Tensor>& states() const { return states_; }

 private:
  const HawkLm& lm_;
  // Per block: the convolution's window [1, K−1, C] (the activations' dtype) and the
  // RG-LRU state [1, C] (f32 when the activations are bf16).
  std::vector<Tensor> windows_, states_;
};

class HawkBatchDecoder : public BatchDecoder {
 public:
  // rows: HawkDecoders of `lm` after their prefill.
  HawkBatchDecoder(const HawkLm& lm, std::span<Decoder* const> rows);
  void step(const Tensor& tokens, Tensor& logits) override;

 private:
  const HawkLm& lm_;
  std::vector<Tensor> windows_, states_;  // per block [B, K−1, C] and [B, C]
};

}  // namespace birdie::model
