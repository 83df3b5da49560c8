// Decoding many sequences together with the tokens kept on the device. Each sequence's
// prompt first goes through a Decoder of its own (prefill, then any tokens fed causally);
// LanguageModel::batch_decoder stacks their states into one BatchDecoder, whose step takes
// the B next tokens where the sampler wrote them (kernels/sampling.h) and writes the B rows
// of logits in place.
//
// A step is a fixed sequence of kernels: it reads nothing back to the host, frees before
// it returns whatever it allocates, keeps what changes from token to token (recurrent
// states, the key-value caches and their lengths) in device memory updated in place, and
// so launches the same kernels with the same arguments every time: a CUDA graph can
// capture it once and replay it (engine/cuda_graph.h, model/batch_generator.h).
#pragma once

#include <span>
#include <vector>

#include "engine/tensor.h"
#include "model/language_model.h"

namespace birdie::model {

class BatchDecoder {
 public:
  virtual ~BatchDecoder() = default;
  // tokens [B] i32 on the model's device; logits [B, V] (the head's dtype) written.
  virtual void step(const Tensor& tokens, Tensor& logits) = 0;
};

// rows[b] [1, ...] (all the same shape, dtype and device) copied into row b of a new
// [B, ...] tensor on their device.
Tensor stack_rows(std::span<const Tensor> rows);

// The parts every architecture's BatchDecoder shares (`name` names it in the errors):
// the rows as its own decoders, each checked to be one (`kind`, "a Hawk decoder") and to
// have run its prefill (`prefilled`);
template <class RowDecoder, class Prefilled>
std::vector<const RowDecoder*> prefilled_rows(std::span<Decoder* const> rows, const char* name, const char* kind,
                                              Prefilled prefilled) {
  BIRDIE_CHECK(!rows.empty(), name, ": no rows");
  std::vector<const RowDecoder*> decoders;
  for (std::size_t b = 0; b < rows.size(); ++b) {
    const auto* decoder = dynamic_cast<const RowDecoder*>(rows[b]);
    BIRDIE_CHECK(decoder != nullptr, name, ": row ", b, " is not ", kind);
    BIRDIE_CHECK(prefilled(*decoder), name, ": row ", b, " was not prefilled");
    decoders.push_back(decoder);
  }
  return decoders;
}
// the norm's statistics [B] for activations of `dtype` (f32 under bf16);
Tensor norm_statistics(std::int64_t B, DType dtype, Device device);
// a step's checks of tokens [B] and logits [B, V], then the tokens' embeddings into x [B, D];
void embed_step_tokens(const LanguageModel& lm, const Tensor& tokens, const Tensor& logits, std::int64_t B,
                       const char* name, Tensor& x);
// the final norm and the head of x [B, D] into logits [B, V] (normed [B, D] and inv_rms [B]:
// work buffers).
void step_head(const LanguageModel& lm, const Tensor& x, Tensor& normed, Tensor& inv_rms, Tensor& logits);

}  // namespace birdie::model
