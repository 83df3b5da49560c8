// Token sampling and the bookkeeping of batched generation on the device, so that
// decoding never copies logits back to the host: the sampled tokens [B] feed the next
// decoding step where they are, and each row's generated tokens, count and stop flag stay
// on the device until the caller reads them (model/batch_generator.h).
//
// The rule (kernels/cpu/sampling.h: greedy, temperature, top-k, top-p) and its arithmetic
// (kernels/sampling_rule.h) are shared by the CPU reference and the CUDA kernel: every
// decision is made on integers (ranks as 64-bit keys, masses in fixed point), so both
// devices pick the same token from the same logits and Philox block. The only thing that
// may differ is the f64 exponential of a mass (CUDA's exp is within an ulp of glibc's),
// which moves a mass by one unit of 2^-40 at most; a draw changes only if its target lies
// on that unit.
//
// Random numbers: row b draws Philox block (seed_b, stream 0, counters[b]) and advances
// its counter by one (not when greedy): the numbers of RandomGenerator(seed_b).next_u64()
// (engine/random.h) at offset counters[b], so a row's tokens depend on its own seed and
// draws alone, never on the other rows of the batch.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "kernels/cpu/sampling.h"

namespace birdie::kernels {

// logits [B, V] (f32 or bf16; f64 too on the CPU); seeds [B, 2] i32 (each row's 64-bit
// seed as its low and high 32-bit words); counters [B] i32, read and advanced by one when
// the temperature is positive; tokens [B] i32, written. top_k ≥ 0, top_p in (0, 1],
// V < 2^23.
void sample_tokens(const Tensor& logits, const SamplingRule& rule, const Tensor& seeds, Tensor& counters,
                   Tensor& tokens);

// After each sampled token, for each row b not yet done (done[b] == 0): out[b, counts[b]] =
// tokens[b], counts[b] += 1, and the row is done once that token is `eos` or `stop` (−1:
// none) or counts[b] reaches out's width M. A done row writes nothing more: its later
// tokens are ignored. tokens, counts, done [B] i32; out [B, M] i32.
void record_tokens(const Tensor& tokens, std::int32_t eos, std::int32_t stop, Tensor& out, Tensor& counts,
                   Tensor& done);

}  // namespace birdie::kernels
