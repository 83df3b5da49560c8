// The critic of docs/method.md §4: a small causal Gated SSM over the sequence of evaluations
// that predicts, at row t, the per-configuration reward R(t) of interval t from the row
//     [L_old(t) ‖ a(t)]      (width 2n: losses at the interval's start, mixture used in it)
// Network (f32 on the CPU backend of this engine):
//     u = RMSNorm(L_old)·s_loss ‖ RMSNorm(a)·s_action       (learned scales, init 0.1)
//     x = Linear 2n→width (u)   — computed as W_loss·(loss half) + W_action·(action half) + b
//     4 × pre-norm residual Gated SSM block (model/gated_ssm/gated_ssm_block.h: its parameters,
//         initialization and math),
//         causal over t
//     R̂ = Linear width→n (RMSNorm(x)) + b
// Parameters (one ParameterSet): input.loss_norm.weight [n], input.action_norm.weight [n],
// input.loss_proj.weight [W, n], input.action_proj.weight [W, n], input.bias [W],
// blocks.{l}.* (as in the LM), final_norm.weight [W], head.weight [n, W], head.bias [n].
// Initialization: model::initialize_parameters (std 1/sqrt(fan_in), output projections
// scaled by 1/sqrt(2·layers)), then the input scales set to 0.1 and the two input
// projections scaled by 1/sqrt(2) so that their fan-in is the concatenated 2n.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/parameters.h"
#include "model/gated_ssm/gated_ssm_block.h"

namespace birdie::bandit {

struct RewardCriticConfig {
  std::int64_t configurations = 0;  // n
  std::int64_t width = 256;
  std::int64_t state = 512;
  std::int64_t layers = 4;
  double input_scale_init = 0.1;
  double norm_eps = 1e-5;
};

// The number of weights of a critic of this shape (the same as its parameters().numel()).
std::int64_t critic_parameter_count(const RewardCriticConfig& config);

class RewardCritic {
 public:
  RewardCritic(const RewardCriticConfig& config, std::uint64_t seed);
  RewardCritic(const RewardCritic&) = delete;  // the optimizer keeps a reference to parameters()
  RewardCritic& operator=(const RewardCritic&) = delete;

  const RewardCriticConfig& config() const { return config_; }
  autograd::ParameterSet& parameters() { return parameters_; }
  const autograd::ParameterSet& parameters() const { return parameters_; }

  // The whole sequence: losses, actions [T, n] (f32, CPU) → predicted rewards [T, n],
  // causal over T (row t sees rows 0..t). Records on the tape when gradients are on.
  Tensor forward(const Tensor& losses, const Tensor& actions) const;

  // Candidate scoring with the history's recurrent state shared by all candidates: runs
  // the history rows [H, n] once (H may be 0), keeps each block's final state, then steps
  // only the row [current_losses ‖ candidate] for every candidate as one batch (in chunks
  // of `chunk` candidates, chunks in parallel). current_losses [n], candidates [C, n] → R̂ at that row [C, n].
  // Equal (to f32 rounding) to forward() over history + that row, read at the last row.
  Tensor predict_next_row(const Tensor& history_losses, const Tensor& history_actions,
                          const Tensor& current_losses, const Tensor& candidates,
                          std::int64_t chunk = 2048) const;

 private:
  Tensor input_rows(const Tensor& losses, const Tensor& actions) const;  // [..., n] → [..., W]
  Tensor head(const Tensor& x) const;                                     // [..., W] → [..., n]

  RewardCriticConfig config_;
  autograd::ParameterSet parameters_;
  std::vector<model::GatedSsmBlockWeights> blocks_;
};

}  // namespace birdie::bandit
