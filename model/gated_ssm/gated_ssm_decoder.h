// Recurrent generation with the Gated SSM (docs/method.md §5): the prompt and <sg> go through
// every block in one pass (both directions of the bidirectional blocks), then each new
// token is decoded causally with O(1) time and memory per token: only the forward state of
// each block is carried, a few N-wide vectors whatever the prompt length. Many sequences
// continue together in a GatedSsmBatchDecoder (model/batch_decoder.h): the blocks' states
// stacked into [B, N], one token per row at each step. Its step is fused where launches
// are cheapest to save: per block four kernels (RMSNorm; the input projection with its
// bias in the product's epilogue; the scan step with its gates; the output projection
// accumulated into the residual stream, beta = 1), every buffer made once for the batch,
// the head writing the logits in place.
#pragma once

#include <vector>

#include "model/batch_decoder.h"
#include "model/gated_ssm/gated_ssm_lm.h"

namespace birdie::model {

class GatedSsmDecoder : public Decoder {
 public:
  explicit GatedSsmDecoder(const GatedSsmLm& lm) : lm_(lm) {}
  Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                 std::span<const std::int32_t> causal = {}) override;
  Tensor step(std::int32_t token) override;

  const std::vector<Tensor>& states() const { return states_; }

 private:
  const GatedSsmLm& lm_;
  // Per block: [1, N], f32 when the activations are bf16 (kernels/scan_step.h).
  std::vector<Tensor> states_;
};

class GatedSsmBatchDecoder : public BatchDecoder {
 public:
  // rows: GatedSsmDecoders of `lm` after their prefill.
  GatedSsmBatchDecoder(const GatedSsmLm& lm, std::span<Decoder* const> rows);
  void step(const Tensor& tokens, Tensor& logits) override;

 private:
  const GatedSsmLm& lm_;
  std::vector<Tensor> states_;  // per block [B, N]
  // The step's work buffers: the residual stream x and its norm [B, D], the norm's
  // statistics [B], the projection [B, 4N] and the scan's output [B, N].
  Tensor x_, normed_, inv_rms_, proj_, y_;
};

}  // namespace birdie::model
