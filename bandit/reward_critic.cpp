#include "bandit/reward_critic.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/scan_step.h"

namespace birdie::bandit {

namespace {

std::string block_prefix(std::int64_t layer) { return "blocks." + std::to_string(layer) + "."; }

std::vector<autograd::ParameterSpec> critic_specs(const RewardCriticConfig& c) {
  BIRDIE_CHECK(c.configurations > 0, "RewardCritic: the grid has no configurations. Fix: give "
               "the objective grid at least one entry");
  BIRDIE_CHECK(c.width > 0 && c.state > 0 && c.layers > 0, "RewardCritic: width ", c.width,
               ", state ", c.state, " and layers ", c.layers, " must be positive");
  const std::int64_t n = c.configurations, w = c.width;
  std::vector<autograd::ParameterSpec> specs;
  specs.push_back({"input.loss_norm.weight", {n}, false});
  specs.push_back({"input.action_norm.weight", {n}, false});
  specs.push_back({"input.loss_proj.weight", {w, n}, true});
  specs.push_back({"input.action_proj.weight", {w, n}, true});
  specs.push_back({"input.bias", {w}, false});
  for (std::int64_t l = 0; l < c.layers; ++l)
    model::append_gated_ssm_block_specs(specs, block_prefix(l), w, c.state);
  specs.push_back({"final_norm.weight", {w}, false});
  specs.push_back({"head.weight", {n, w}, true});
  specs.push_back({"head.bias", {n}, false});
  return specs;
}

}  // namespace

std::int64_t critic_parameter_count(const RewardCriticConfig& config) {
  std::int64_t count = 0;
  for (const autograd::ParameterSpec& spec : critic_specs(config)) {
    std::int64_t size = 1;
    for (std::int64_t d : spec.shape) size *= d;
    count += size;
  }
  return count;
}

RewardCritic::RewardCritic(const RewardCriticConfig& config, std::uint64_t seed)
    : config_(config), parameters_(critic_specs(config), DType::f32, Device::cpu) {
  RandomGenerator rng(seed);
  model::initialize_parameters(parameters_, config_.layers, rng);
  const auto set_all = [](const Tensor& t, double value) {
    float* p = t.data<float>();
    std::fill(p, p + t.numel(), static_cast<float>(value));
  };
  set_all(parameters_["input.loss_norm.weight"], config_.input_scale_init);
  set_all(parameters_["input.action_norm.weight"], config_.input_scale_init);
  for (const char* name : {"input.loss_proj.weight", "input.action_proj.weight"}) {
    float* p = parameters_[name].data<float>();
    for (std::int64_t i = 0; i < parameters_[name].numel(); ++i)
      p[i] = static_cast<float>(p[i] / std::sqrt(2.0));
  }
  for (std::int64_t l = 0; l < config_.layers; ++l)
    blocks_.push_back(model::gated_ssm_block_weights(parameters_, block_prefix(l)));
}

Tensor RewardCritic::input_rows(const Tensor& losses, const Tensor& actions) const {
  namespace ag = autograd;
  const Tensor loss_half = ag::rmsnorm(losses, parameters_["input.loss_norm.weight"], config_.norm_eps);
  const Tensor action_half = ag::rmsnorm(actions, parameters_["input.action_norm.weight"], config_.norm_eps);
  return ag::add(ag::linear(action_half, parameters_["input.action_proj.weight"], parameters_["input.bias"]),
                 ag::linear(loss_half, parameters_["input.loss_proj.weight"]));
}

Tensor RewardCritic::head(const Tensor& x) const {
  namespace ag = autograd;
  return ag::linear(ag::rmsnorm(x, parameters_["final_norm.weight"], config_.norm_eps),
                    parameters_["head.weight"], parameters_["head.bias"]);
}

Tensor RewardCritic::forward(const Tensor& losses, const Tensor& actions) const {
  const std::int64_t n = config_.configurations;
  BIRDIE_CHECK(losses.rank() == 2 && losses.dim(1) == n && actions.shape() == losses.shape(),
               "RewardCritic::forward: losses ", losses.describe(), " and actions ",
               actions.describe(), " must both be [rows, ", n, "]");
  const std::int64_t T = losses.dim(0);
  std::vector<std::int32_t> reset(T, 0);
  if (T > 0) reset[0] = kernels::reset_bits::segment_start;
  const Tensor reset_mask = Tensor::from_values<std::int32_t>(reset, {1, T});
  Tensor x = input_rows(losses.reshape({1, T, n}), actions.reshape({1, T, n}));
  for (const auto& block : blocks_)
    x = model::gated_ssm_block(block, x, reset_mask, kernels::ScanDirection::causal, config_.norm_eps);
  return autograd::reshape(head(x), {T, n});
}

Tensor RewardCritic::predict_next_row(const Tensor& history_losses, const Tensor& history_actions,
                                      const Tensor& current_losses, const Tensor& candidates,
                                      std::int64_t chunk) const {
  autograd::NoGradGuard no_grad;
  const std::int64_t n = config_.configurations, N = config_.state, W = config_.width;
  BIRDIE_CHECK(history_losses.rank() == 2 && history_losses.dim(1) == n &&
                   history_actions.shape() == history_losses.shape(),
               "RewardCritic::predict_next_row: history ", history_losses.describe(), " / ",
               history_actions.describe(), " must both be [rows, ", n, "]");
  check_shape(current_losses, {n}, "RewardCritic::predict_next_row current losses");
  BIRDIE_CHECK(candidates.rank() == 2 && candidates.dim(1) == n,
               "RewardCritic::predict_next_row: candidates ", candidates.describe(),
               " must be [count, ", n, "]");
  BIRDIE_CHECK(chunk > 0, "RewardCritic::predict_next_row: chunk must be positive");
  const std::int64_t H = history_losses.dim(0), C = candidates.dim(0);

  // The history, once: every block's state after its last row.
  std::vector<Tensor> states;
  for (std::int64_t l = 0; l < config_.layers; ++l) states.push_back(Tensor::zeros({1, N}, DType::f32));
  if (H > 0) {
    std::vector<std::int32_t> reset(H, 0);
    reset[0] = kernels::reset_bits::segment_start;
    const Tensor reset_mask = Tensor::from_values<std::int32_t>(reset, {1, H});
    Tensor x = input_rows(history_losses.reshape({1, H, n}), history_actions.reshape({1, H, n}));
    for (std::int64_t l = 0; l < config_.layers; ++l) {
      const Tensor proj = model::gated_ssm_block_projection(blocks_[l], x, config_.norm_eps);
      kernels::gated_scan_final_state(proj, reset_mask, kernels::ScanDirection::causal, states[l]);
      if (l + 1 < config_.layers)  // the last block's output is not needed
        x = model::gated_ssm_block_output(
            blocks_[l], x, autograd::gated_scan(proj, reset_mask, kernels::ScanDirection::causal));
    }
  }

  // The loss half of the candidate row is the same for every candidate.
  const Tensor loss_term = autograd::reshape(
      autograd::linear(autograd::rmsnorm(current_losses.reshape({1, n}),
                                         parameters_["input.loss_norm.weight"], config_.norm_eps),
                       parameters_["input.loss_proj.weight"]),
      {W});
  Tensor out = Tensor::empty({C, n}, DType::f32);
  // Chunks of candidates are independent: OpenMP runs them side by side (each with
  // single-threaded kernels and BLAS), and each writes its own rows of `out`.
  const std::int64_t chunks = (C + chunk - 1) / chunk;
  std::exception_ptr failure;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (std::int64_t k = 0; k < chunks; ++k) {
    try {
      autograd::NoGradGuard no_grad_here;  // the flag is per thread
      const std::int64_t begin = k * chunk, end = std::min(C, begin + chunk), rows = end - begin;
      const Tensor action_half = autograd::rmsnorm(
          candidates.slice(begin, end), parameters_["input.action_norm.weight"], config_.norm_eps);
      Tensor x = autograd::add(autograd::linear(action_half, parameters_["input.action_proj.weight"],
                                                parameters_["input.bias"]),
                               loss_term);
      for (std::int64_t l = 0; l < config_.layers; ++l) {
        const Tensor proj = model::gated_ssm_block_projection(blocks_[l], x, config_.norm_eps);
        Tensor state = Tensor::empty({rows, N}, DType::f32);
        const float* source = states[l].data<float>();
        float* target = state.data<float>();
        for (std::int64_t r = 0; r < rows; ++r) std::copy(source, source + N, target + r * N);
        Tensor y = Tensor::empty({rows, N}, DType::f32);
        kernels::gated_scan_step(proj, state, kernels::ScanDirection::causal, y);
        x = model::gated_ssm_block_output(blocks_[l], x, y);
      }
      out.slice(begin, end).copy_from(head(x));
    } catch (...) {
#pragma omp critical(birdie_critic_scoring)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace birdie::bandit
