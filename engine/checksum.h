// A 64-bit checksum of a byte range (8-byte words, multiply-xorshift; the bytes past the
// last whole word FNV-style): fast enough to verify every token shard and checkpoint file
// as it is opened. It depends on the total size, which is known up front; Checksum64
// takes the bytes in pieces of any size and gives the same value as checksum64 of the
// whole range (a file is checked in chunks, never held whole in memory).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace birdie {

class Checksum64 {
 public:
  explicit Checksum64(std::uint64_t total_size) : h_(0x9E3779B97F4A7C15ull ^ total_size), left_(total_size) {}

  void add(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size > 0) {
      if (pending_ == 0 && size >= 8 && left_ >= 8) {  // the fast path: whole words straight from the input
        const std::size_t words = static_cast<std::size_t>(std::min<std::uint64_t>(size, left_) / 8);
        for (std::size_t w = 0; w < words; ++w, p += 8) mix_word(p);
        size -= words * 8;
        left_ -= words * 8;
        continue;
      }
      if (left_ < 8 && pending_ == 0) {  // the tail after the last whole word
        for (; size > 0 && left_ > 0; --size, --left_, ++p) h_ = (h_ ^ *p) * 0x100000001B3ull;
        size = 0;  // bytes beyond the announced size are ignored
        break;
      }
      buffer_[pending_++] = *p++;  // a word split between two pieces
      --size;
      if (pending_ == 8) {
        mix_word(buffer_);
        pending_ = 0;
        left_ -= 8;
      }
    }
  }

  std::uint64_t value() const { return h_; }

 private:
  void mix_word(const unsigned char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h_ = (h_ ^ w) * 0xFF51AFD7ED558CCDull;
    h_ ^= h_ >> 32;
  }

  std::uint64_t h_;
  std::uint64_t left_;  // bytes not yet mixed (those in buffer_ included)
  unsigned char buffer_[8] = {};
  std::size_t pending_ = 0;
};

inline std::uint64_t checksum64(const void* data, std::size_t size) {
  Checksum64 sum(size);
  sum.add(data, size);
  return sum.value();
}

}  // namespace birdie
