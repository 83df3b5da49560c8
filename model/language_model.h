// The language-model interface every architecture implements (docs/method.md §5): the Gated SSM
// (model/gated_ssm/), Hawk (model/hawk/) and the Transformer (model/transformer/), each
// registered in model/architecture_list.h. The
// trainer, the evaluators, checkpoints and generation see only this: parameters in one
// ParameterSet, logits and loss over packed rows with their reset mask, and a decoder for
// generation.
//
// Every architecture reads the reset mask the same way (kernels/scan.h): bit 0 starts a
// sample, so nothing crosses from one packed sample to the next in either direction; bit 1
// marks the causal suffix, so in a bidirectional block the prompt sees itself in both
// directions and the suffix only what came before.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "model/model_config.h"

namespace birdie::model {

// Incremental generation of one sequence: the prompt and <sg> in one pass, then one token at
// a time. Both calls return the next token's logits [V] on the host (a token costs one copy
// of V values back for sampling).
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Runs prompt ‖ <sg> ‖ causal in one pass and returns the logits at its last token (at
  // <sg>: the first answer token's, when causal is empty). `causal` is read causally after
  // <sg>, as if step() had fed its tokens one at a time (the start of an answer to
  // continue), at the cost of one pass instead of a step per token.
  virtual Tensor prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                         std::span<const std::int32_t> causal = {}) = 0;
  // Feeds one generated token; returns the logits for the next one.
  virtual Tensor step(std::int32_t token) = 0;
};

class BatchDecoder;  // model/batch_decoder.h

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  const ModelConfig& config() const { return config_; }
  autograd::ParameterSet& parameters() { return parameters_; }
  const autograd::ParameterSet& parameters() const { return parameters_; }
  Device device() const { return parameters_.tensors().front().device(); }
  DType dtype() const { return parameters_.tensors().front().dtype(); }
  DType compute_dtype() const { return parameters_.compute_dtype(); }

  // Activation recompute per block: keep only each block's input during the forward pass
  // and recompute the block in the backward pass (autograd/recompute.h).
  void set_recompute_blocks(bool enabled) { recompute_blocks_ = enabled; }

  // tokens, reset: [B, T] (i32). Returns logits [B·T, V].
  virtual Tensor logits(const Tensor& tokens, const Tensor& reset) const = 0;
  // Mean cross-entropy over targets [B, T] that are not ignored (times options.weight);
  // give options.counted when the targets were counted on the host, so the call never
  // waits for the device.
  autograd::CrossEntropy loss(const Tensor& tokens, const Tensor& targets, const Tensor& reset,
                              const autograd::CrossEntropyOptions& options = {}) const;
  // A decoder for one sequence, reading this model's current weights.
  virtual std::unique_ptr<Decoder> decoder() const = 0;
  // A decoder continuing the sequences `rows` together (decoders of this model, each after
  // its prefill), for at most `steps` more tokens each (model/batch_decoder.h). It copies
  // what it needs: the rows' decoders may be dropped.
  virtual std::unique_ptr<BatchDecoder> batch_decoder(std::span<Decoder* const> rows, std::int64_t steps) const = 0;

  // The pieces around the blocks, shared with the decoders: "embedding.weight" → x
  // [B, T, D]; the final norm and the vocabulary head, x [..., D] → [rows, V]; and the
  // head on one position's hidden state, copied to the host as [V].
  Tensor embed(const Tensor& tokens) const;
  Tensor head(const Tensor& x) const;
  Tensor host_logits(const Tensor& x) const;
  // For the decoders: one token's embedding [1, 1, D], and host_logits of the last position
  // of x [1, T, D] (a long prompt's other rows never go through the head).
  Tensor embed_token(std::int32_t token) const;
  Tensor last_host_logits(const Tensor& x) const;
  // Whether block `layer` reads its input in both directions.
  bool is_bidirectional(std::int64_t layer) const { return config_.is_bidirectional(layer); }

 protected:
  // Registers `specs` (the architecture's, from a validated config) in `dtype` on
  // `device`; the architecture initializes them, then calls finish_parameters.
  LanguageModel(const ModelConfig& config, std::vector<autograd::ParameterSpec> specs, DType dtype, Device device);
  // Adds the compute copy when compute_dtype differs from the parameters' dtype (mixed
  // precision: bf16 weights and activations over f32 master weights, f32 gradients and
  // recurrences) and records where each block's parameters lie.
  void finish_parameters(DType compute_dtype);

  // x → block(x) over the model's blocks: each block's input marked as where its gradients
  // become final (autograd/gradients_final.h), under a profiler region "block l", and
  // recomputed in the backward pass when set_recompute_blocks(true) (so `block` must
  // capture by value what it reads: it may run again after the forward pass returned).
  using BlockFunction = std::function<Tensor(std::int64_t layer, const Tensor& x)>;
  Tensor run_blocks(Tensor x, const BlockFunction& block) const;

 private:
  ModelConfig config_;
  autograd::ParameterSet parameters_;
  std::vector<autograd::ParameterRange> block_ranges_;  // each block's part of the flat buffers
  bool recompute_blocks_ = false;
};

// The one row a decoder's prefill runs: prompt ‖ <sg> ‖ causal as tokens [1, T] and its
// reset mask (kernels/scan.h: the sample starts at 0, <sg> and the causal tokens are
// causal; 3 when the prompt is empty).
struct PrefillRow {
  Tensor tokens, reset;
};
PrefillRow prefill_row(std::span<const std::int32_t> prompt, std::int32_t start_generating, Device device,
                       std::span<const std::int32_t> causal = {});

// "blocks.{l}." — the prefix of block l's parameter names in every architecture.
std::string block_prefix(std::int64_t layer);
// An architecture's parameters, once `config` is validated and found to be of
// `architecture` (else the error names `model`): "embedding.weight" first, then each
// block's, appended by `append_block` under the block's prefix, then "final_norm.weight"
// and "head.weight" (absent when tied).
using AppendBlockSpecs = std::function<void(std::vector<autograd::ParameterSpec>& specs, const std::string& prefix)>;
std::vector<autograd::ParameterSpec> language_model_specs(const ModelConfig& config, Architecture architecture,
                                                          const char* model, const AppendBlockSpecs& append_block);

// Each architecture NAME of model/architecture_list.h builds its model (model/NAME/):
// make_NAME_lm, with the arguments of make_language_model.
#define BIRDIE_DECLARE_MAKE_LM(name)                                                                      \
  std::unique_ptr<LanguageModel> make_##name##_lm(const ModelConfig& config, DType dtype, Device device, \
                                                  std::uint64_t seed, DType compute_dtype);
BIRDIE_ARCHITECTURES(BIRDIE_DECLARE_MAKE_LM)
#undef BIRDIE_DECLARE_MAKE_LM

// The architecture config.architecture names, its parameters initialized from `seed`.
// `dtype` is the parameters' (master) dtype; `compute_dtype` the dtype of the weights the
// forward pass reads and of its activations: the same, or bf16 over f32.
std::unique_ptr<LanguageModel> make_language_model(const ModelConfig& config, DType dtype, Device device,
                                                   std::uint64_t seed, DType compute_dtype);
inline std::unique_ptr<LanguageModel> make_language_model(const ModelConfig& config, DType dtype, Device device,
                                                          std::uint64_t seed) {
  return make_language_model(config, dtype, device, seed, dtype);
}

}  // namespace birdie::model
