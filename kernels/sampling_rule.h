// The arithmetic of token sampling (kernels/sampling.h) that the CPU reference and the
// CUDA kernel share, so that both pick the same token from the same logits and random
// numbers. Every decision is made on integers:
//
// - rank: a token's 64-bit key is its logit's order-preserving bits above the complement
//   of its index, so keys are distinct, a larger logit has a larger key and equal logits
//   rank the lower index first (greedy decoding is the largest key: the first maximum).
//   NaN ranks last.
// - mass: exp((logit − max) / temperature) in f64, as a fixed-point integer in units of
//   2^-40 (the most likely token weighs exactly 2^40; a token under 2^-40 of it weighs 0
//   and is never drawn). Integer sums do not depend on their order, so a GPU block's
//   reduction gives the CPU loop's total bit for bit.
// - top-k keeps the k largest keys; top-p then keeps the smallest run of them, from the
//   top, whose mass reaches ceil(top_p · total) (at least one token).
// - draw: one Philox block (seed, stream 0, counter) as 64 bits r; the target
//   ⌊r · kept_total / 2^64⌋ is found in the kept tokens' running mass in index order.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/host_device.h"
#include "engine/philox.h"

namespace birdie::kernels::sampling_rule {

constexpr double mass_scale = 1099511627776.0;  // 2^40
// Vocabulary sizes below this keep the total mass under 2^64.
constexpr std::int64_t max_vocab = std::int64_t{1} << 23;

BIRDIE_HOST_DEVICE std::uint64_t key(float logit, std::int64_t index) {
#if defined(__CUDA_ARCH__)
  const std::uint32_t bits = __float_as_uint(logit);
#else
  std::uint32_t bits;
  std::memcpy(&bits, &logit, sizeof(bits));
#endif
  std::uint32_t order;
  if (logit != logit) order = 0;  // NaN
  else order = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  return (static_cast<std::uint64_t>(order) << 32) | (0xFFFFFFFFu - static_cast<std::uint32_t>(index));
}

BIRDIE_HOST_DEVICE std::int64_t key_index(std::uint64_t key) {
  return static_cast<std::int64_t>(0xFFFFFFFFu - static_cast<std::uint32_t>(key));
}

// The logit a key was made from (NaN's key gives NaN back as −∞: it never weighs).
BIRDIE_HOST_DEVICE float key_logit(std::uint64_t key) {
  const std::uint32_t order = static_cast<std::uint32_t>(key >> 32);
  if (order == 0) return -INFINITY;
  const std::uint32_t bits = (order & 0x80000000u) ? (order & 0x7FFFFFFFu) : ~order;
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float logit;
  std::memcpy(&logit, &bits, sizeof(bits));
  return logit;
#endif
}

BIRDIE_HOST_DEVICE std::uint64_t mass(float logit, float max_logit, double temperature) {
  const double p = exp((static_cast<double>(logit) - static_cast<double>(max_logit)) / temperature);
  return p > 0 ? static_cast<std::uint64_t>(p * mass_scale) : 0;  // NaN and −∞ weigh 0
}

// The mass the top-p nucleus must reach out of `total`: in [1, total] (total ≥ 1).
BIRDIE_HOST_DEVICE std::uint64_t nucleus_need(std::uint64_t total, double top_p) {
  const double need = ceil(static_cast<double>(total) * top_p);
  if (!(need >= 1.0)) return 1;
  if (need >= static_cast<double>(total)) return total;
  const std::uint64_t n = static_cast<std::uint64_t>(need);
  return n < 1 ? 1 : (n > total ? total : n);
}

// ⌊r · total / 2^64⌋ with r the 64 bits of Philox block (seed, 0, counter): in [0, total).
BIRDIE_HOST_DEVICE std::uint64_t draw_target(std::uint64_t seed, std::uint64_t counter, std::uint64_t total) {
  const Philox4x32Block bits = philox_block(seed, 0, counter);
  const std::uint64_t r = (static_cast<std::uint64_t>(bits.word[0]) << 32) | bits.word[1];
#if defined(__CUDA_ARCH__)
  return __umul64hi(r, total);
#else
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(r) * total) >> 64);
#endif
}

}  // namespace birdie::kernels::sampling_rule
