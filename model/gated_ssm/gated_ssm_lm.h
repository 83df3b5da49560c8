// The Gated SSM language model (docs/method.md §5): embedding, pre-norm residual blocks
//     x ← x + W_out · scan(W_in · RMSNorm(x) + b_in)
// (the gated scan of kernels/scan.h, causal or bidirectional per block), a final
// RMSNorm and the vocabulary head. Parameters live in one ParameterSet, named
//     embedding.weight, blocks.{l}.norm.weight, blocks.{l}.in_proj.weight [4N, D],
//     blocks.{l}.in_proj.bias [4N], blocks.{l}.out_proj.weight [D, N],
//     final_norm.weight, head.weight [V, D] (absent when tied).
#pragma once

#include "model/architecture_lm.h"
#include "model/gated_ssm/gated_ssm_block.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const ModelConfig& config);

// Built with its parameters initialized (model/initialization.h plus
// gated_ssm_initial_values) from `seed`; dtypes as in make_language_model
// (model/language_model.h).
class GatedSsmLm : public ArchitectureLm<GatedSsmBlockWeights> {
 public:
  // The pieces of a block, shared with recurrent generation:
  //   proj = block_projection(l, x), y = scan(proj), x = block_output(l, x, y).
  Tensor block_projection(std::int64_t layer, const Tensor& x) const;        // [..., 4N]
  Tensor block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const;  // [..., D]
  kernels::ScanDirection direction(std::int64_t layer) const {
    return is_bidirectional(layer) ? kernels::ScanDirection::bidirectional : kernels::ScanDirection::causal;
  }

  GatedSsmLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
             std::optional<DType> compute_dtype = std::nullopt);

  // Recurrent: O(1) time and memory per generated token (model/gated_ssm/gated_ssm_decoder.h).
  std::unique_ptr<Decoder> decoder() const override;
  std::unique_ptr<BatchDecoder> batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const override;

 private:
  BlockFunction blocks(const Tensor& reset) const override;
};

}  // namespace birdie::model
