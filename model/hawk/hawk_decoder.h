// Recurrent generation with Hawk (docs/method.md §5): the prompt and <sg> go through every block
// in one pass (both directions of the bidirectional blocks), keeping per block the last
// K−1 inputs of the short convolution and the RG-LRU's forward state; then each new token
// is decoded causally with O(1) time and memory per token (kernels/rglru_step.h). As in
// the Gated SSM decoder, a bidirectional block's reverse half carries nothing: a suffix
// token sees only itself there (the convolution's look-ahead and the reverse RG-LRU stop at
// causal tokens), so its output is a function of the token alone.
//
// Many sequences continue together in a HawkBatchDecoder (model/batch_decoder.h): the
// windows and states stacked over the rows, one token per row at each step. Its step
// writes into buffers made once for the batch: the fused projections run as one product
// per half (row blocks of their weights, so no column split), the gates' bias rides in
// the product's epilogue, both output projections accumulate into the residual stream
// (beta = 1), and the head writes the logits in place.
#pragma once

#include <vector>

#include "model/batch_decoder.h"
#include "model/hawk/hawk_lm.h"

namespace birdie::model {

class HawkDecoder : public Decoder {
 public:
  explicit HawkDecoder(const HawkLm& lm) : lm_(lm) {}
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                 std::span<const std::int32_t> causal = {}) override;
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
  // The step's work buffers: x and its norm [B, D], the norm's statistics [B]; the
  // temporal branch's g, z, the convolution's output c, the RG-LRU's output h and a GeLU
  // [B, C], the gates [r | i] [B, 2C]; the MLP's halves and a GeLU [B, M].
  Tensor x_, normed_, inv_rms_, g_, z_, c_, h_, activated_, gates_, mlp_gate_, mlp_up_, mlp_activated_;
};

}  // namespace birdie::model
