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

}  // namespace birdie::model
