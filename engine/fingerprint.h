// FNV-1a 64 over bytes: a fingerprint that tells whether two buffers hold the same bits
// (initial weights against a golden value, replicated state across the ranks of a job).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/tensor.h"

namespace birdie {

inline std::uint64_t fnv1a(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

// Of a CPU tensor's bytes.
inline std::uint64_t fnv1a(const Tensor& t) { return fnv1a(t.raw_data(), t.nbytes()); }

}  // namespace birdie
