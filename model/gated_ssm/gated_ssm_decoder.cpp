#include "model/gated_ssm/gated_ssm_decoder.h"

#include "autograd/tape.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"
#include "kernels/scan_step.h"

namespace birdie::model {

Tensor GatedSsmDecoder::prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                              std::span<const std::int32_t> causal) {
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const auto [token_tensor, reset_tensor] = prefill_row(prompt, start_generating, device, causal);

  states_.clear();
  Tensor x = lm_.embed(token_tensor);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x);
    Tensor state = Tensor::empty({1, lm_.config().state}, kernels::gated_scan_state_dtype(proj.dtype()), device);
    kernels::gated_scan_final_state(proj, reset_tensor, lm_.direction(l), state);
    states_.push_back(state);
    x = lm_.block_output(l, x, autograd::gated_scan(proj, reset_tensor, lm_.direction(l)));
  }
  return lm_.last_host_logits(x);
}

Tensor GatedSsmDecoder::step(std::int32_t token) {
  BIRDIE_CHECK(!states_.empty(), "GatedSsmDecoder::step before prefill");
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const std::int64_t N = lm_.config().state;
  Tensor x = lm_.embed_token(token);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x).reshape({1, 4 * N});
    Tensor y = Tensor::empty({1, N}, proj.dtype(), device);
    kernels::gated_scan_step(proj, states_[l], lm_.direction(l), y);
    x = lm_.block_output(l, x, y.reshape({1, 1, N}));
  }
  return lm_.host_logits(x);
}

GatedSsmBatchDecoder::GatedSsmBatchDecoder(const GatedSsmLm& lm, std::span<Decoder* const> rows) : lm_(lm) {
  const auto decoders = prefilled_rows<GatedSsmDecoder>(rows, "GatedSsmBatchDecoder", "a Gated SSM decoder",
                                                        [](const GatedSsmDecoder& d) { return !d.states().empty(); });
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    std::vector<Tensor> layer;
    for (const GatedSsmDecoder* decoder : decoders) layer.push_back(decoder->states()[l]);
    states_.push_back(stack_rows(layer));
  }
  const std::int64_t B = static_cast<std::int64_t>(rows.size()), D = lm_.config().dim, N = lm_.config().state;
  const DType dtype = lm_.compute_dtype();
  const Device device = lm_.device();
  x_ = Tensor::empty({B, D}, dtype, device);
  normed_ = Tensor::empty({B, D}, dtype, device);
  inv_rms_ = norm_statistics(B, dtype, device);
  proj_ = Tensor::empty({B, 4 * N}, dtype, device);
  y_ = Tensor::empty({B, N}, dtype, device);
}

void GatedSsmBatchDecoder::step(const Tensor& tokens, Tensor& logits) {
  const ModelConfig& config = lm_.config();
  embed_step_tokens(lm_, tokens, logits, states_.front().dim(0), "GatedSsmBatchDecoder", x_);
  for (std::int64_t l = 0; l < config.layers; ++l) {
    const GatedSsmBlockWeights& w = lm_.block(l);
    kernels::rmsnorm_forward(x_, w.norm, config.norm_eps, normed_, inv_rms_);
    kernels::matmul_fused(normed_, false, w.in_proj_weight, true, proj_, {w.in_proj_bias, {}});
    kernels::gated_scan_step(proj_, states_[l], lm_.direction(l), y_);
    kernels::matmul(y_, false, w.out_proj_weight, true, x_, 1.0, 1.0);  // x += W_out · y
  }
  step_head(lm_, x_, normed_, inv_rms_, logits);
}

}  // namespace birdie::model
