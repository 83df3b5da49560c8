// The Gated SSM language model (BIRDIE.md §5): embedding, pre-norm residual blocks
//     x ← x + W_out · scan(W_in · RMSNorm(x) + b_in)
// (the gated scan of kernels/scan.h, causal or bidirectional per block), a final
// RMSNorm and the vocabulary head. Parameters live in one ParameterSet, named
//     embedding.weight, blocks.{l}.norm.weight, blocks.{l}.in_proj.weight [4N, D],
//     blocks.{l}.in_proj.bias [4N], blocks.{l}.out_proj.weight [D, N],
//     final_norm.weight, head.weight [V, D] (absent when tied).
#pragma once

#include "autograd/ops.h"
#include "autograd/parameters.h"
#include "engine/random.h"
#include "model/gated_ssm_block.h"
#include "model/gated_ssm_config.h"

namespace birdie::model {

std::vector<autograd::ParameterSpec> gated_ssm_parameter_specs(const GatedSsmConfig& config);

// Built with its parameters initialized (model/gated_ssm_block.h) from `seed`.
// `dtype` is the parameters' (master) dtype; `compute_dtype` the dtype of the weights the
// forward pass reads and of its activations: the same, or bf16 over f32 master weights
// (mixed precision: a bf16 compute copy in the ParameterSet, fp32 gradients, moments and
// recurrences, fp32 normalization statistics and losses).
class GatedSsmLm {
 public:
  GatedSsmLm(const GatedSsmConfig& config, DType dtype, Device device, std::uint64_t seed)
      : GatedSsmLm(config, dtype, device, seed, dtype) {}
  GatedSsmLm(const GatedSsmConfig& config, DType dtype, Device device, std::uint64_t seed,
             DType compute_dtype);

  const GatedSsmConfig& config() const { return config_; }
  autograd::ParameterSet& parameters() { return parameters_; }
  const autograd::ParameterSet& parameters() const { return parameters_; }
  Device device() const { return parameters_.tensors().front().device(); }
  DType dtype() const { return parameters_.tensors().front().dtype(); }
  DType compute_dtype() const { return parameters_.compute_dtype(); }

  // Activation recompute per block: keep only each block's input during the forward pass
  // and recompute the block in the backward pass (autograd/recompute.h).
  void set_recompute_blocks(bool enabled) { recompute_blocks_ = enabled; }

  // tokens, reset: [B, T] (i32). Returns logits [B·T, V].
  Tensor logits(const Tensor& tokens, const Tensor& reset) const;

  // The pieces of the forward pass, shared with recurrent generation:
  //   x = embed(tokens); per block l: proj = block_projection(l, x),
  //   y = scan(proj), x = block_output(l, x, y); logits = head(x).
  Tensor embed(const Tensor& tokens) const;                                  // [..., D]
  Tensor block_projection(std::int64_t layer, const Tensor& x) const;        // [..., 4N]
  Tensor block_output(std::int64_t layer, const Tensor& x, const Tensor& y) const;  // [..., D]
  Tensor head(const Tensor& x) const;                                        // [rows, V]
  kernels::ScanDirection direction(std::int64_t layer) const {
    return config_.is_bidirectional(layer) ? kernels::ScanDirection::bidirectional
                                           : kernels::ScanDirection::causal;
  }
  // Mean cross-entropy over targets [B, T] that are not ignored (times options.weight);
  // give options.counted when the targets were counted on the host, so the call never
  // waits for the device.
  autograd::CrossEntropy loss(const Tensor& tokens, const Tensor& targets, const Tensor& reset,
                              const autograd::CrossEntropyOptions& options = {}) const;

 private:
  GatedSsmConfig config_;
  autograd::ParameterSet parameters_;
  std::vector<GatedSsmBlockWeights> blocks_;
  std::vector<autograd::ParameterRange> block_ranges_;  // each block's part of the flat buffers
  bool recompute_blocks_ = false;
};

}  // namespace birdie::model
