// Host stand-in for CUDA's cp.async primitives (scripts/cuda_emulation): the copy happens
// at once, and the sizes and alignments the hardware requires are checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cuda_shim.h"

inline void __pipeline_memcpy_async(void* dst_shared, const void* src_global, std::size_t size_and_align,
                                    std::size_t zfill = 0) {
  if (size_and_align != 4 && size_and_align != 8 && size_and_align != 16) emu::fail("cp.async of a size other than 4, 8, 16");
  if (reinterpret_cast<std::uintptr_t>(dst_shared) % size_and_align != 0 ||
      reinterpret_cast<std::uintptr_t>(src_global) % size_and_align != 0)
    emu::fail("cp.async with a misaligned address");
  std::memcpy(dst_shared, src_global, size_and_align - zfill);
  std::memset(static_cast<unsigned char*>(dst_shared) + size_and_align - zfill, 0, zfill);
}
inline void __pipeline_commit() {}
inline void __pipeline_wait_prior(std::size_t) {}
