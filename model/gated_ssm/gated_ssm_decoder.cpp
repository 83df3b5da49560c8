#include "model/gated_ssm/gated_ssm_decoder.h"

#include "autograd/tape.h"
#include "kernels/scan_step.h"

namespace birdie::model {

Tensor GatedSsmDecoder::prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating) {
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const auto [token_tensor, reset_tensor] = prefill_row(prompt, start_generating, device);
  const std::int64_t T = token_tensor.dim(1);

  states_.clear();
  Tensor x = lm_.embed(token_tensor);
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x);
    Tensor state = Tensor::empty({1, lm_.config().state}, kernels::gated_scan_state_dtype(proj.dtype()), device);
    kernels::gated_scan_final_state(proj, reset_tensor, lm_.direction(l), state);
    states_.push_back(state);
    x = lm_.block_output(l, x, autograd::gated_scan(proj, reset_tensor, lm_.direction(l)));
  }
  // Only <sg>'s row goes through the head: a long prompt's full [T, V] logits would cost
  // T times the memory and time for rows nobody reads.
  return lm_.host_logits(x.reshape({T, lm_.config().dim}).slice(T - 1, T));
}

Tensor GatedSsmDecoder::step(std::int32_t token) {
  BIRDIE_CHECK(!states_.empty(), "GatedSsmDecoder::step before prefill");
  autograd::NoGradGuard no_grad;
  const Device device = lm_.device();
  const std::int64_t N = lm_.config().state;
  Tensor x = lm_.embed(Tensor::from_values<std::int32_t>({token}, {1, 1}).to(device));
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x).reshape({1, 4 * N});
    Tensor y = Tensor::empty({1, N}, proj.dtype(), device);
    kernels::gated_scan_step(proj, states_[l], lm_.direction(l), y);
    x = lm_.block_output(l, x, y.reshape({1, 1, N}));
  }
  return lm_.host_logits(x);
}

GatedSsmBatchDecoder::GatedSsmBatchDecoder(const GatedSsmLm& lm, std::span<Decoder* const> rows) : lm_(lm) {
  BIRDIE_CHECK(!rows.empty(), "GatedSsmBatchDecoder: no rows");
  std::vector<const GatedSsmDecoder*> decoders;
  for (std::size_t b = 0; b < rows.size(); ++b) {
    const auto* decoder = dynamic_cast<const GatedSsmDecoder*>(rows[b]);
    BIRDIE_CHECK(decoder != nullptr, "GatedSsmBatchDecoder: row ", b, " is not a Gated SSM decoder");
    BIRDIE_CHECK(!decoder->states().empty(), "GatedSsmBatchDecoder: row ", b, " was not prefilled");
    decoders.push_back(decoder);
  }
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    std::vector<Tensor> layer;
    for (const GatedSsmDecoder* decoder : decoders) layer.push_back(decoder->states()[l]);
    states_.push_back(stack_rows(layer));
  }
}

void GatedSsmBatchDecoder::step(const Tensor& tokens, Tensor& logits) {
  autograd::NoGradGuard no_grad;
  const std::int64_t B = tokens.dim(0), N = lm_.config().state;
  Tensor x = lm_.embed(tokens.reshape({B, 1}));
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    Tensor proj = lm_.block_projection(l, x).reshape({B, 4 * N});
    Tensor y = Tensor::empty({B, N}, proj.dtype(), proj.device());
    kernels::gated_scan_step(proj, states_[l], lm_.direction(l), y);
    x = lm_.block_output(l, x, y.reshape({B, 1, N}));
  }
  logits.copy_from(lm_.head(x));
}

}  // namespace birdie::model
