#include "model/hawk/hawk_decoder.h"

#include <algorithm>

#include "autograd/tape.h"
#include "kernels/elementwise.h"
#include "kernels/gated_gelu.h"
#include "kernels/matmul.h"
#include "kernels/rglru_step.h"
#include "kernels/rmsnorm.h"

namespace birdie::model {

Tensor HawkDecoder::prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                              std::span<const std::int32_t> causal) {
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const auto [token_tensor, reset_tensor] = prefill_row(prompt, start_generating, device, causal);
  const std::int64_t T = token_tensor.dim(1);
  const std::int64_t C = lm_.config().state, K = lm_.config().conv_width;
  const double eps = lm_.config().norm_eps;

  windows_.clear();
  states_.clear();
  Tensor x = lm_.embed(token_tensor);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    const HawkBlockWeights& w = lm_.block(l);
    const std::vector<Tensor> gz = hawk_temporal_input(w, x, eps);
    // The window: the row's last K−1 convolution inputs, zeros before the row's start.
    Tensor window = Tensor::zeros({1, K - 1, C}, gz[1].dtype(), device);
    const std::int64_t kept = std::min(T, K - 1);
    if (kept > 0) window.reshape({K - 1, C}).slice(K - 1 - kept, K - 1).copy_from(gz[1].reshape({T, C}).slice(T - kept, T));
    windows_.push_back(window);

    const Tensor c = autograd::causal_conv1d(gz[1], w.conv_weight, w.conv_bias, reset_tensor, lm_.direction(l));
    const Tensor gates = hawk_gates(w, c);
    Tensor state = Tensor::empty({1, C}, kernels::rglru_state_dtype(c.dtype()), device);
    kernels::rglru_final_state(c, gates, w.lambda, reset_tensor, lm_.direction(l), state);
    states_.push_back(state);
    const Tensor gated = autograd::rglru_scan(c, gates, w.lambda, reset_tensor, lm_.direction(l), gz[0]);
    x = hawk_mlp(w, hawk_temporal_output(w, x, gated), eps);
  }
  return lm_.last_host_logits(x);
}

Tensor HawkDecoder::step(std::int32_t token) {
  BIRDIE_CHECK(!states_.empty(), "HawkDecoder::step before prefill");
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const std::int64_t C = lm_.config().state;
  const double eps = lm_.config().norm_eps;
  Tensor x = lm_.embed_token(token);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    const HawkBlockWeights& w = lm_.block(l);
    const std::vector<Tensor> gz = hawk_temporal_input(w, x, eps);
    Tensor c = Tensor::empty({1, C}, gz[1].dtype(), device);
    kernels::conv1d_step(gz[1].reshape({1, C}), w.conv_weight, w.conv_bias, windows_[l], lm_.direction(l), c);
    Tensor h = Tensor::empty({1, C}, c.dtype(), device);
    kernels::rglru_step(c, hawk_gates(w, c), w.lambda, states_[l], lm_.direction(l), h);
    x = hawk_mlp(w, hawk_temporal_output(w, x, autograd::gelu_mul(gz[0], h.reshape({1, 1, C}))), eps);
  }
  return lm_.host_logits(x);
}

HawkBatchDecoder::HawkBatchDecoder(const HawkLm& lm, std::span<Decoder* const> rows) : lm_(lm) {
  const auto decoders = prefilled_rows<HawkDecoder>(rows, "HawkBatchDecoder", "a Hawk decoder",
                                                    [](const HawkDecoder& d) { return !d.states().empty(); });
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    std::vector<Tensor> windows, states;
    for (const HawkDecoder* decoder : decoders) {
      windows.push_back(decoder->windows()[l]);
      states.push_back(decoder->states()[l]);
    }
    windows_.push_back(stack_rows(windows));
    states_.push_back(stack_rows(states));
  }
  const std::int64_t B = static_cast<std::int64_t>(rows.size()), D = lm_.config().dim, C = lm_.config().state,
                     M = lm_.config().mlp_hidden;
  const DType dtype = lm_.compute_dtype();
  const Device device = lm_.device();
  for (Tensor* t : {&x_, &normed_}) *t = Tensor::empty({B, D}, dtype, device);
  for (Tensor* t : {&g_, &z_, &c_, &h_, &activated_}) *t = Tensor::empty({B, C}, dtype, device);
  for (Tensor* t : {&mlp_gate_, &mlp_up_, &mlp_activated_}) *t = Tensor::empty({B, M}, dtype, device);
  gates_ = Tensor::empty({B, 2 * C}, dtype, device);
  inv_rms_ = norm_statistics(B, dtype, device);
}

void HawkBatchDecoder::step(const Tensor& tokens, Tensor& logits) {
  const ModelConfig& config = lm_.config();
  const std::int64_t B = states_.front().dim(0), C = config.state, M = config.mlp_hidden;
  const double eps = config.norm_eps;
  embed_step_tokens(lm_, tokens, logits, B, "HawkBatchDecoder", x_);
  for (std::int64_t l = 0; l < config.layers; ++l) {
    const HawkBlockWeights& w = lm_.block(l);
    // Temporal mixing: [g | z] = W_in RMSNorm(x), c = conv(z), [r | i] = W_gates c + b,
    // h = RG-LRU(c, [r | i]), x += W_out (GeLU(g) ⊙ h).
    kernels::rmsnorm_forward(x_, w.temporal_norm, eps, normed_, inv_rms_);
    kernels::matmul(normed_, false, w.in_proj.slice(0, C), true, g_);
    kernels::matmul(normed_, false, w.in_proj.slice(C, 2 * C), true, z_);
    kernels::conv1d_step(z_, w.conv_weight, w.conv_bias, windows_[l], lm_.direction(l), c_);
    kernels::matmul_fused(c_, false, w.gates_weight, true, gates_, {w.gates_bias, {}});
    kernels::rglru_step(c_, gates_, w.lambda, states_[l], lm_.direction(l), h_);
    kernels::gelu_mul_forward(g_, h_, activated_);
    kernels::matmul(activated_, false, w.out_proj, true, x_, 1.0, 1.0);
    // The gated MLP: [a | b] = W_up RMSNorm(x), x += W_down (GeLU(a) ⊙ b).
    kernels::rmsnorm_forward(x_, w.mlp_norm, eps, normed_, inv_rms_);
    kernels::matmul(normed_, false, w.mlp_in_proj.slice(0, M), true, mlp_gate_);
    kernels::matmul(normed_, false, w.mlp_in_proj.slice(M, 2 * M), true, mlp_up_);
    kernels::gelu_mul_forward(mlp_gate_, mlp_up_, mlp_activated_);
    kernels::matmul(mlp_activated_, false, w.mlp_out_proj, true, x_, 1.0, 1.0);
  }
  step_head(lm_, x_, normed_, inv_rms_, logits);
}

}  // namespace birdie::model
