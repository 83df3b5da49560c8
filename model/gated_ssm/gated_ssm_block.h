// One Gated SSM block (docs/method.md §5), the unit shared by the language model and the
// bandit's critic:
//     x ← x + W_out · scan(W_in · RMSNorm(x) + b_in)
// with the fused [i; f; z; o] projection W_in [4N, D], its bias [4N], and W_out [D, N].
#pragma once

#include <string>
#include <vector>

#include "autograd/parameters.h"
#include "engine/random.h"
#include "kernels/scan.h"
#include "model/initialization.h"
#include "model/model_config.h"

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

// The block's own initial values (model/initialization.h): with ForgetGateInit::spread the
// forget rows [N, 2N) of "*in_proj.bias" (model/model_config.h); none with zero.
OwnInitialValues gated_ssm_initial_values(ForgetGateInit forget);

// The pieces of the block (generation runs the scan itself, one token at a time).
Tensor gated_ssm_block_projection(const GatedSsmBlockWeights& w, const Tensor& x, double norm_eps);
Tensor gated_ssm_block_output(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& y);
// The whole block over x [B, T, D] with the reset mask [B, T].
Tensor gated_ssm_block(const GatedSsmBlockWeights& w, const Tensor& x, const Tensor& reset,
                       kernels::ScanDirection direction, double norm_eps);

}  // namespace birdie::model
