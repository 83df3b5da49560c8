#include "model/transformer/transformer_decoder.h"

#include <algorithm>

#include "autograd/tape.h"
#include "kernels/attention_decode.h"
#include "kernels/elementwise.h"
#include "kernels/gated_gelu.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"

namespace birdie::model {

namespace {
constexpr std::int64_t minimum_capacity = 64;
}

void TransformerDecoder::reserve(std::int64_t rows) {
  if (rows <= capacity()) return;
  const std::int64_t grown = std::max({rows, 2 * capacity(), minimum_capacity});
  const AttentionHeads h = lm_.attention_heads();
  for (LayerCache& layer : layers_)
    for (Tensor* cache : {&layer.keys, &layer.values}) {
      Tensor bigger = Tensor::empty({grown, h.heads, h.head_dim}, cache->dtype(), cache->device());
      if (length_ > 0) bigger.slice(0, length_).copy_from(cache->slice(0, length_));
      *cache = bigger;
    }
}

Tensor TransformerDecoder::prefill(std::span<const std::int32_t> prompt, std::int32_t start_generating,
                              std::span<const std::int32_t> causal) {
  namespace ag = autograd;
  ag::NoGradGuard no_grad;
  const auto [tokens, reset] = prefill_row(prompt, start_generating, lm_.device(), causal);
  const std::int64_t T = tokens.dim(1);
  const ModelConfig& config = lm_.config();
  const AttentionHeads h = lm_.attention_heads();

  Tensor x = lm_.embed(tokens);
  layers_.assign(config.layers, {});
  length_ = 0;
  for (LayerCache& layer : layers_)  // empty caches of the activations' dtype, grown below
    layer.keys = layer.values = Tensor::empty({0, h.heads, h.head_dim}, x.dtype(), x.device());
  reserve(T + 1);
  for (std::int64_t l = 0; l < config.layers; ++l) {
    const TransformerBlockWeights& w = lm_.block(l);
    const auto [q, k, v] = transformer_query_key_value(w, x, h, config.norm_eps);
    const Tensor k_rotated = ag::rotary(k, reset, config.rope_base);
    layers_[l].keys.slice(0, T).copy_from(k_rotated.reshape({T, h.heads, h.head_dim}));
    layers_[l].values.slice(0, T).copy_from(v.reshape({T, h.heads, h.head_dim}));
    const Tensor attended = ag::attention(ag::rotary(q, reset, config.rope_base), k_rotated, v, reset, lm_.mask(l));
    x = transformer_mlp_residual(w, transformer_attention_residual(w, x, attended), config.norm_eps);
  }
  length_ = T;
  return lm_.last_host_logits(x);
}

Tensor TransformerDecoder::step(std::int32_t token) {
  BIRDIE_CHECK(length_ > 0, "TransformerDecoder::step before prefill");
  autograd::NoGradGuard no_grad;
  const ModelConfig& config = lm_.config();
  const AttentionHeads h = lm_.attention_heads();
  reserve(length_ + 1);
  // The new token's position in its sample: the prompt starts at 0, so it is the number of
  // tokens before it.
  const std::int64_t position = length_;
  Tensor x = lm_.embed_token(token);
  for (std::int64_t l = 0; l < config.layers; ++l) {
    const TransformerBlockWeights& w = lm_.block(l);
    const auto [q, k, v] = transformer_query_key_value(w, x, h, config.norm_eps);
    Tensor q_rotated = q.reshape({h.heads, h.head_dim});
    kernels::rotary_at_position(q_rotated, position, config.rope_base, q_rotated);
    Tensor key_row = layers_[l].keys.slice(position, position + 1).reshape({h.heads, h.head_dim});
    kernels::rotary_at_position(k.reshape({h.heads, h.head_dim}), position, config.rope_base, key_row);
    layers_[l].values.slice(position, position + 1).copy_from(v.reshape({1, h.heads, h.head_dim}));
    Tensor attended = Tensor::empty({h.heads, h.head_dim}, q.dtype(), q.device());
    kernels::attention_decode(q_rotated, layers_[l].keys.slice(0, position + 1),
                              layers_[l].values.slice(0, position + 1), attended);
    x = transformer_attention_residual(w, x, attended.reshape({1, 1, h.heads, h.head_dim}));
    x = transformer_mlp_residual(w, x, config.norm_eps);
  }
  length_ = position + 1;
  return lm_.host_logits(x);
}

TransformerBatchDecoder::TransformerBatchDecoder(const TransformerLm& lm, std::span<Decoder* const> rows,
                                                 std::int64_t steps)
    : lm_(lm) {
  BIRDIE_CHECK(steps >= 0, "TransformerBatchDecoder: steps must not be negative, got ", steps);
  const auto decoders = prefilled_rows<TransformerDecoder>(rows, "TransformerBatchDecoder", "a Transformer decoder",
                                                           [](const TransformerDecoder& d) { return d.length() > 0; });
  std::vector<std::int32_t> lengths;
  for (const TransformerDecoder* decoder : decoders) lengths.push_back(static_cast<std::int32_t>(decoder->length()));
  const std::int64_t B = static_cast<std::int64_t>(rows.size());
  const std::int64_t capacity = *std::max_element(lengths.begin(), lengths.end()) + std::max<std::int64_t>(steps, 1);
  const AttentionHeads h = lm_.attention_heads();
  for (std::int64_t l = 0; l < lm_.config().layers; ++l) {
    const Tensor first = decoders.front()->keys(l);
    for (std::vector<Tensor>* caches : {&keys_, &values_}) {
      // Rows past a sequence's length are never read before they are written: zeros only
      // keep uninitialized memory out of the picture.
      Tensor cache = Tensor::zeros({B, capacity, h.heads, h.head_dim}, first.dtype(), first.device());
      for (std::int64_t b = 0; b < B; ++b) {
        const Tensor filled = caches == &keys_ ? decoders[b]->keys(l) : decoders[b]->values(l);
        cache.slice(b, b + 1).reshape({capacity, h.heads, h.head_dim}).slice(0, lengths[b]).copy_from(filled);
      }
      caches->push_back(cache);
    }
  }
  positions_ = Tensor::from_values<std::int32_t>(lengths, {B}).to(lm_.device());
  const std::int64_t D = lm_.config().dim, M = lm_.config().mlp_hidden;
  const DType dtype = lm_.compute_dtype();
  const Device device = lm_.device();
  for (Tensor* t : {&x_, &normed_, &q_, &k_, &v_, &attended_}) *t = Tensor::empty({B, D}, dtype, device);
  for (Tensor* t : {&gate_, &activated_, &up_}) *t = Tensor::empty({B, M}, dtype, device);
  inv_rms_ = norm_statistics(B, dtype, device);
}

void TransformerBatchDecoder::step(const Tensor& tokens, Tensor& logits) {
  const ModelConfig& config = lm_.config();
  const AttentionHeads h = lm_.attention_heads();
  const std::int64_t B = positions_.dim(0);
  embed_step_tokens(lm_, tokens, logits, B, "TransformerBatchDecoder", x_);
  const Shape heads{B, h.heads, h.head_dim};
  Tensor q = q_.reshape(heads), attended = attended_.reshape(heads);
  for (std::int64_t l = 0; l < config.layers; ++l) {
    const TransformerBlockWeights& w = lm_.block(l);
    kernels::rmsnorm_forward(x_, w.attention_norm, config.norm_eps, normed_, inv_rms_);
    kernels::matmul(normed_, false, w.q_proj, true, q_);
    kernels::matmul(normed_, false, w.k_proj, true, k_);
    kernels::matmul(normed_, false, w.v_proj, true, v_);
    kernels::append_to_cache(q, k_.reshape(heads), v_.reshape(heads), positions_, config.rope_base, keys_[l],
                             values_[l]);
    kernels::attention_decode_cached(q, keys_[l], values_[l], positions_, attended);
    kernels::matmul(attended_, false, w.attention_out, true, x_, 1.0, 1.0);  // x += W_o · attended
    kernels::rmsnorm_forward(x_, w.mlp_norm, config.norm_eps, normed_, inv_rms_);
    kernels::matmul(normed_, false, w.gate_proj, true, gate_);
    kernels::matmul(normed_, false, w.up_proj, true, up_);
    kernels::gelu_mul_forward(gate_, up_, activated_);
    kernels::matmul(activated_, false, w.mlp_out, true, x_, 1.0, 1.0);  // x += W_out · (GeLU(gate) ⊙ up)
  }
  kernels::advance_positions(positions_);
  step_head(lm_, x_, normed_, inv_rms_, logits);
}

}  // namespace birdie::model
