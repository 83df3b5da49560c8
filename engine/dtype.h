// Element types of tensors, and the host-side bfloat16.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace birdie {

enum class DType { f32, bf16, i32, f64 };

std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
DType parse_dtype(std::string_view name);  // "f32", "bf16", "i32", "f64"

// bfloat16 on the host: the upper 16 bits of an IEEE float. Same layout as CUDA's
// __nv_bfloat16, so buffers move between host and device unchanged.
//
// Conversion from float: one rule on both sides, the GPU's (`cvt.rn.bf16.f32`, which
// `__float2bfloat16_rn` compiles to), so a conversion gives the same bits on either device:
// - round to nearest, ties to even, on the bit pattern: subnormals round like normal
//   numbers (no flush to zero), a finite value past the largest bf16 rounds to ±infinity;
// - ±infinity and ±0 keep their sign;
// - every NaN (either sign, quiet or signalling, any payload) becomes the canonical quiet
//   NaN 0x7FFF.
// f64 converts through f32 on both sides (two roundings, as the GPU kernels do).
struct bfloat16 {
  std::uint16_t bits = 0;

  static constexpr std::uint16_t canonical_nan = 0x7fff;

  static constexpr bfloat16 from_float(float value) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bfloat16{canonical_nan};
    u += 0x7fffu + ((u >> 16) & 1u);
    return bfloat16{static_cast<std::uint16_t>(u >> 16)};
  }
  constexpr float to_float() const {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
  }
};
static_assert(sizeof(bfloat16) == 2);

// The DType of a C++ element type, for typed access checks.
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<bfloat16>() { return DType::bf16; }

}  // namespace birdie
