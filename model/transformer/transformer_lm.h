// The Transformer baseline language model (docs/method.md §5: the retrieval ceiling the
// recurrences are measured against): embedding, pre-norm blocks of rotary multi-head
// attention and a gated MLP (model/transformer/transformer_block.h), a final RMSNorm and
// the vocabulary head. The bidirectional blocks (config.bidirectional) attend as a prefix
// LM: the prompt reads itself both ways, the suffix causally; the other blocks are causal
// everywhere. Parameters live in one ParameterSet, named
//     embedding.weight, blocks.{l}.attention_norm.weight, blocks.{l}.attention.{q,k,v}_proj.weight,
//     blocks.{l}.attention.out_proj.weight, blocks.{l}.mlp_norm.weight,
//     blocks.{l}.mlp.{gate,up}_proj.weight, blocks.{l}.mlp.out_proj.weight,
//     final_norm.weight, head.weight [V, D] (absent when tied).
#pragma once

#include "model/architecture_lm.h"
#include "model/transformer/transformer_block.h"

namespace birdie::model {

// Built with its parameters initialized (model/initialization.h) from `seed`; dtypes as
// in make_language_model (model/language_model.h).
class TransformerLm : public ArchitectureLm<TransformerBlockWeights> {
 public:
  AttentionHeads attention_heads() const { return {config().heads, config().dim / config().heads}; }
  kernels::AttentionMask mask(std::int64_t layer) const {
    return is_bidirectional(layer) ? kernels::AttentionMask::prefix : kernels::AttentionMask::causal;
  }

  TransformerLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
                std::optional<DType> compute_dtype = std::nullopt);

  // KV cache: a token costs attention over every earlier token of its sequence
  // (model/transformer/transformer_decoder.h).
  std::unique_ptr<Decoder> decoder() const override;
  std::unique_ptr<BatchDecoder> batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const override;

 private:
  // The segment bounds are found once per batch, for every block's rotary and attention,
  // in both passes.
  BlockFunction blocks(const Tensor& reset) const override;
};

}  // namespace birdie::model
