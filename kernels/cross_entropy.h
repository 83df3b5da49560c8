// Fused softmax cross-entropy with an ignore index: loss and dlogits in one pass over each
// row, never a separate softmax tensor.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace birdie::kernels {

constexpr std::int32_t ignore_index = -1;

// logits [rows, V], targets [rows] (i32, in [0, V) or ignore_index).
// Writes row_loss [rows] (the logits' dtype, or f32 with bf16 logits; 0 on ignored rows)
// and, when dlogits is defined, dlogits (the logits' dtype) = (softmax(logits) -
// onehot(target)) · grad_scale per counted row (0 on ignored rows). With grad_scale =
// 1 / counted rows this is the gradient of the mean loss. Logits: f32 or bf16 on both
// devices (the CPU emulates bf16), f64 on the CPU.
// A target outside the vocabulary: the CPU throws; the GPU, which never waits for the
// device here, writes NaN loss and gradient on that row (validate with count_targets, or
// where the targets are made, to get an error that names the row).
void cross_entropy_forward_backward(const Tensor& logits, const Tensor& targets, double grad_scale,
                                    Tensor& row_loss, Tensor* dlogits);

// The number of counted (non-ignored) targets; throws, naming the first bad row, when a
// target is outside [0, vocab) and not ignore_index. GPU targets are copied to the host
// (the call waits for the device): callers that have the targets on the host count there.
std::int64_t count_targets(const Tensor& targets, std::int64_t vocab);

}  // namespace birdie::kernels
