// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
// a counter-based generator. The numbers are a pure function of (key, counter), so a CPU
// loop and a GPU kernel that ask for the same (seed, offset) get the same bits, and a
// generator's whole state is two integers, trivial to checkpoint.
#pragma once

#include <cstdint>

#include "engine/host_device.h"

namespace birdie {

struct Philox4x32Block {
  std::uint32_t word[4];
};

BIRDIE_HOST_DEVICE Philox4x32Block philox4x32_10(std::uint32_t c0, std::uint32_t c1,
                                                 std::uint32_t c2, std::uint32_t c3,
                                                 std::uint32_t k0, std::uint32_t k1) {
  constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += w0;
    k1 += w1;
  }
  return Philox4x32Block{{c0, c1, c2, c3}};
}

// Block `block` of the stream `stream` under `seed`: 4 random 32-bit words. The seed is
// the key; the 128-bit counter is (block, stream), so independent streams never overlap.
BIRDIE_HOST_DEVICE Philox4x32Block philox_block(std::uint64_t seed, std::uint64_t stream,
                                                std::uint64_t block) {
  return philox4x32_10(static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                       static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                       static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

// A uniform float in [0, 1) from the top 24 bits of a word (exactly representable).
BIRDIE_HOST_DEVICE float uniform_from_bits(std::uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

}  // namespace birdie
