// What every architecture's language model (model/NAME/NAME_lm.h) shares around its
// blocks: the parameters registered and initialized from the seed (model/initialization.h,
// plus the architecture's own initial values), each block's weights read once, and the
// forward pass: the batch's checks, the embedding, the blocks (run_blocks) and the head.
// The architecture gives its parameter specs, its own initial values, how a block's
// weights are read, and the blocks' forward pass over one batch.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/nvtx.h"
#include "engine/random.h"
#include "model/initialization.h"
#include "model/language_model.h"

namespace birdie::model {

template <class BlockWeights>
class ArchitectureLm : public LanguageModel {
 public:
  Tensor logits(const Tensor& tokens, const Tensor& reset) const final {
    BIRDIE_NVTX_RANGE(names_.forward_range);
    BIRDIE_CHECK(tokens.rank() == 2, names_.model, ": tokens must be [batch, time], got ", tokens.describe());
    check_shape(reset, tokens.shape(), (std::string(names_.model) + " reset mask").c_str());
    return head(run_blocks(embed(tokens), blocks(reset)));
  }

  const BlockWeights& block(std::int64_t layer) const { return blocks_[layer]; }

 protected:
  // The model's name in messages ("HawkLm") and its forward pass's profiler range
  // ("hawk_lm.forward").
  struct Names {
    const char* model;
    const char* forward_range;
  };
  using ReadBlockWeights = BlockWeights (*)(const autograd::ParameterSet& parameters, const std::string& prefix);

  // `specs` in `dtype` on `device`, initialized from `seed` with the architecture's `own`
  // values, with the compute copy in `compute_dtype` (none: `dtype`; see
  // LanguageModel::finish_parameters); then each block's weights read from its prefix
  // (block_prefix).
  ArchitectureLm(const ModelConfig& config, std::vector<autograd::ParameterSpec> specs, DType dtype, Device device,
                 std::uint64_t seed, std::optional<DType> compute_dtype, const OwnInitialValues& own,
                 ReadBlockWeights read_block, Names names)
      : LanguageModel(config, std::move(specs), dtype, device), names_(names) {
    RandomGenerator rng(seed);
    initialize_parameters(parameters(), config.layers, rng, own);
    finish_parameters(compute_dtype.value_or(dtype));
    for (std::int64_t l = 0; l < config.layers; ++l) blocks_.push_back(read_block(parameters(), block_prefix(l)));
  }

  // The blocks over one batch with its reset mask [B, T]: what run_blocks calls (it
  // captures by value what it reads of the batch).
  virtual BlockFunction blocks(const Tensor& reset) const = 0;

 private:
  Names names_;
  std::vector<BlockWeights> blocks_;
};

}  // namespace birdie::model
