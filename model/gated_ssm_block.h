// One Gated SSM block (BIRDIE.md §5), the unit shared by the language model and the
// bandit's critic:
//     x ← x + W_out · scan(W_in · RMSNorm(x) + b_in)
// with the fused [i; f; z; o] projection W_in [4N, D], its bias [4N], and W_out [D, N].
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "engine/random.h"
#include "kernels/scan.h"
#include "model/gated_ssm_config.h"

namespace birdie::model {

// Views of one block's parameters in a ParameterSet: the weights the forward pass reads
// (the compute copy when the set has one).
struct GatedSsmBlockWeights {
  Tensor norm, in_proj_weight, in_proj_bias, out_proj_weight;
};

// Appends the block's parameters named prefix + "norm.weight", "in_proj.weight" (with the
// forget-gate rows exempt from weight decay), "in_proj.bias", "out_proj.weight".
void append_gated_ssm_block_specs(std::vector<autograd::ParameterSpec>& specs,
                                  const std::string& prefix, std::int64_t dim, std::int64_t state);
GatedSsmBlockWeights gated_ssm_block_weights(const autograd::ParameterSet& parameters,
                                             const std::string& prefix);

// Initialization by parameter name (§5): "*norm.weight" 1, "*.bias" 0 (but the forget rows
// [N, 2N) of "*in_proj.bias" with ForgetGateInit::spread, gated_ssm_config.h), the embedding
// truncated normal with std 1 (its input is one-hot: fan-in 1), every other matrix
// truncated normal with std 1/sqrt(fan_in), "*out_proj.weight" further scaled by
// 1/sqrt(2·layers). Drawn in registry order by the CPU fills of engine/random.h (computed
// in f64, rounded once to the parameters' dtype, on all OpenMP threads with the same bits
// for any number of them), straight into the flat buffer when it is f32 or f64 on the CPU,
// else through a CPU staging buffer: every dtype and device starts from the same numbers.
void initialize_parameters(autograd::ParameterSet& parameters, std::int64_t layers, RandomGenerator& rng,
                           ForgetGateInit forget = ForgetGateInit::zero);

// The pieces of the block (generation runs the scan itself, one token at a time).
Tensor gated_ssm_block_projection(const GatedSsmBlockWeights& w, const Tensor& x, double norm_eps);
Tensor gated_ssm_block_output(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& y);
// The whole block over x [B, T, D] with the reset mask [B, T].
Tensor gated_ssm_block(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& reset,
                       kernels::ScanDirection direction, double norm_eps);

}  // namespace birdie::model
