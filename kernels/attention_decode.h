// Attention for incremental decoding (the Transformer's KV-cache decoder,
// model/transformer/transformer_decoder.h): one new query against the keys and values of
// every earlier token of its sequence, and the rotary embedding of that one token at an
// explicit position.
//
// Layout as in kernels/attention.h, without the batch and time of the query:
//   q, out [H, Dh]; k, v [n, H, Dh] (the cache's first n rows: token-major, contiguous);
//   out[h] = Σ_j softmax_j(q[h]·k[j, h] / sqrt(Dh)) v[j, h] over all n keys (the caller
//   holds only what the query may see: the earlier tokens of its own sample and itself).
// rotary_at_position rotates x [H, Dh] by the angles of kernels/rotary.h at `position`
// (the token's position in its sample), computed the way each device's rotary kernel
// computes them, so a decoded key equals the one a full pass rotates.
//
// dtypes: f32 or bf16 on both devices (scores, softmax and sums in f32 on the GPU, f64 on
// the CPU; bf16 emulated on the CPU by widening, outputs rounded once), f64 on the CPU.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace birdie::kernels {

// Writes out [H, Dh]; n ≥ 1.
void attention_decode(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out);
// y = R(θ(position)) x; y may be x itself.
void rotary_at_position(const Tensor& x, std::int64_t position, double base, Tensor& y);

// The same for B sequences decoded together, each with its own cache and length, the
// lengths kept on the device (so the launches do not depend on them and a CUDA graph can
// replay them, model/batch_generator.h): q, k, v, out [B, H, Dh]; keys, values
// [B, capacity, H, Dh]; positions [B] i32, the tokens row b holds in its cache before the
// new one (the new token's position), below capacity.
//
// append_to_cache rotates q[b] (in place) and k[b] at positions[b] and writes k[b] and v[b]
// into row positions[b] of their caches; attention_decode_cached attends q[b] over rows
// [0, positions[b]] of row b's cache (the new token included); advance_positions adds one
// to every position, once the step's layers are done.
void append_to_cache(Tensor& q, const Tensor& k, const Tensor& v, const Tensor& positions, double base, Tensor& keys,
                     Tensor& values);
void attention_decode_cached(const Tensor& q, const Tensor& keys, const Tensor& values, const Tensor& positions,
                             Tensor& out);
void advance_positions(Tensor& positions);

}  // namespace birdie::kernels
