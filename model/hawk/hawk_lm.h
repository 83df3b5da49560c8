// The Hawk language model (Griffin's RG-LRU model, docs/method.md §5): embedding, Hawk residual
// blocks (model/hawk/hawk_block.h: temporal mixing with the short convolution and the
// RG-LRU, then a gated MLP; causal or bidirectional per block), a final RMSNorm and the
// vocabulary head. Parameters live in one ParameterSet, named
//     embedding.weight, blocks.{l}.… (model/hawk/hawk_block.h lists them),
//     final_norm.weight, head.weight [V, D] (absent when tied).
#pragma once

#include "model/architecture_lm.h"
#include "model/hawk/hawk_block.h"

namespace birdie::model {

// Built with its parameters initialized (model/initialization.h plus hawk_initial_values)
// from `seed`; dtypes as in make_language_model (model/language_model.h).
class HawkLm : public ArchitectureLm<HawkBlockWeights> {
 public:
  kernels::ScanDirection direction(std::int64_t layer) const {
    return is_bidirectional(layer) ? kernels::ScanDirection::bidirectional : kernels::ScanDirection::causal;
  }

  HawkLm(const ModelConfig& config, DType dtype, Device device, std::uint64_t seed,
         std::optional<DType> compute_dtype = std::nullopt);

  // Recurrent: O(1) time and memory per generated token (model/hawk/hawk_decoder.h).
  std::unique_ptr<Decoder> decoder() const override;
  std::unique_ptr<BatchDecoder> batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const override;

 private:
  BlockFunction blocks(const Tensor& reset) const override;
};

}  // namespace birdie::model
