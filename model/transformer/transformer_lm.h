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

#include "model/language_model.h"
#include "model/transformer/transformer_block.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> transformer_parameter_specs(const ModelConfig& config);

// Built with its parameters initialized (model/initialization.h) from `seed`; dtypes as
// in make_language_model (model/language_model.h).
class TransformerLm : public LanguageModel {
 public:
  TransformerLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed)
      : TransformerLm(config, dtype, device, seed, dtype) {}
  TransformerLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed, DType compute_dtype);

  Tensor logits(const Tensor& tokens, const Tensor& reset) const override;
  // KV cache: a token costs attention over every earlier token of its sequence
  // (model/transformer/transformer_decoder.h).
  std::unique_ptr<Decoder> decoder() const override;
  std::unique_ptr<BatchDecoder> batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const override;

  const TransformerBlockWeights& block(std::int64_t layer) const { return blocks_[layer]; }
  AttentionHeads attention_heads() const { return {config().heads, config().dim / config().heads}; }
  kernels::AttentionMask mask(std::int64_t layer) const {
    return is_bidirectional(layer) ? kernels::AttentionMask::prefix : kernels::AttentionMask::causal;
  }

 private:
  std::vector<TransformerBlockWeights> blocks_;
};

}  // namespace birdie::model
