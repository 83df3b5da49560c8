// Host emulation of the CUDA subset the kernels of kernels/cuda/ use, so that their own
// source (scan.cu, rmsnorm.cu, embedding.cu, elementwise.cu) compiles with g++ and runs on
// the CPU under AddressSanitizer/UBSan: built-in indices, shared memory, __syncthreads and
// warp shuffles (each CUDA thread an std::thread when a kernel needs barriers), the few
// runtime calls, bf16, and the two CUB algorithms the embedding uses. Launches
// (`k<<<grid, block, shared, stream>>>(args)`) are rewritten by scripts/emulate_cuda_kernels.py
// into emu::launch(k, grid, block, shared, stream)(args). It checks index maps, bounds,
// alignment of vector accesses and launch limits; it says nothing about speed or about
// the GPU's own arithmetic (glibc's expf/erff stand in for CUDA's).
#pragma once

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
// Lets headers of kernels/cuda pick their host stand-ins (kernels/cuda/warp_mma.cuh).
#define BIRDIE_CUDA_EMULATION 1

using std::max;
using std::min;

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

// ---- bf16 (round to nearest even, NaN → 0x7FFF, as __float2bfloat16_rn on sm_80+)
struct __nv_bfloat16 {
  std::uint16_t bits = 0;
};
inline float __bfloat162float(__nv_bfloat16 h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.bits; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  __nv_bfloat16 h;
  if (std::isnan(f)) {
    h.bits = 0x7FFF;
    return h;
  }
  u += 0x7FFFu + ((u >> 16) & 1u);
  h.bits = static_cast<std::uint16_t>(u >> 16);
  return h;
}

// ---- runtime
using cudaError_t = int;
using cudaStream_t = struct CUstream_emu*;
constexpr cudaError_t cudaSuccess = 0;
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
inline const char* cudaGetErrorString(cudaError_t) { return "emulated CUDA error"; }

namespace emu {

inline std::map<const void*, int> shared_opt_in;  // kernel → allowed dynamic shared bytes
inline bool threaded = true;                     // one std::thread per CUDA thread
inline std::vector<std::unique_ptr<unsigned char[]>> dynamic_shared_storage;
inline unsigned char* dynamic_shared_base = nullptr;
inline std::size_t dynamic_shared_bytes = 0;
inline std::atomic<long> launches{0};
inline std::atomic<long> allocations{0};
// Blocks run one after another here, so a scan's look-back would always find the tile
// before it finished; with withhold_every = n > 1, only tiles whose index is a multiple
// of n publish their inclusive state (kernels/cuda/scan_look_back.cuh), so look-backs
// walk past the others through their aggregates, as they do on a GPU.
inline std::atomic<int> withhold_every{0};
inline bool withhold_inclusive(long long tile_index) {
  const int n = withhold_every.load();
  return n > 1 && tile_index % n != 0;
}

template <class T>
T* dynamic_shared() {
  return reinterpret_cast<T*>(dynamic_shared_base);
}

struct Warp {
  std::unique_ptr<std::barrier<>> barrier;
  double values[32];
  // Warp-collective matrix instructions (warp_matrix.h): each lane's operation, its
  // registers and its shared-memory address, exchanged at the barrier.
  int operation[32];
  std::uint32_t words[32][10];
  const void* address[32];
};
// Checked after each block by every thread (warp_matrix.h: no cp.async left in flight).
void check_thread_at_block_end();
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<Warp> warps;

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "emulation: %s\n", what);
  std::abort();
}

template <class K>
auto launch(K kernel, dim3 grid, dim3 block, std::size_t shared = 0, cudaStream_t = nullptr) {
  return [=](auto... args) {
    ++launches;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0) fail("empty grid or block");
    if (grid.x > 2147483647u || grid.y > 65535u || grid.z > 65535u) fail("grid dimension over the limit");
    const unsigned n = block.x * block.y * block.z;
    if (n > 1024) fail("more than 1024 threads per block");
    const void* key = reinterpret_cast<const void*>(kernel);
    const int allowed = shared_opt_in.count(key) ? shared_opt_in[key] : 48 * 1024;
    if (shared > static_cast<std::size_t>(allowed)) fail("dynamic shared memory over the limit");
    gridDim = grid;
    blockDim = block;
    // Dynamic shared memory starts as NaN-like garbage: reads before writes show.
    auto storage = std::make_unique<unsigned char[]>(shared + 16);
    std::memset(storage.get(), 0xFF, shared + 16);
    dynamic_shared_base = storage.get();
    dynamic_shared_bytes = shared;
    // Blocks run one after the other (their shared memory is one static array); in a
    // threaded launch the n threads of a block are n std::threads, which run every block
    // in turn and meet at a barrier between blocks.
    auto run_blocks = [&](unsigned t) {
      threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
      for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
          for (unsigned bx = 0; bx < grid.x; ++bx) {
            blockIdx = dim3(bx, by, bz);
            kernel(args...);
            check_thread_at_block_end();
            if (threaded) block_barrier->arrive_and_wait();
          }
    };
    if (!threaded) {
      for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
          for (unsigned bx = 0; bx < grid.x; ++bx)
            for (unsigned t = 0; t < n; ++t) {
              blockIdx = dim3(bx, by, bz);
              threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
              kernel(args...);
              check_thread_at_block_end();
            }
    } else {
      block_barrier = std::make_unique<std::barrier<>>(n);
      warps.clear();
      warps.resize((n + 31) / 32);
      for (unsigned w = 0; w < warps.size(); ++w)
        warps[w].barrier = std::make_unique<std::barrier<>>(std::min(32u, n - 32 * w));
      std::vector<std::thread> pool;
      pool.reserve(n);
      for (unsigned t = 0; t < n; ++t) pool.emplace_back(run_blocks, t);
      for (auto& th : pool) th.join();
    }
    dynamic_shared_base = nullptr;
  };
}

inline unsigned linear_thread() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

}  // namespace emu

inline void __syncthreads() {
  if (!emu::threaded) emu::fail("__syncthreads in a sequential launch");
  emu::block_barrier->arrive_and_wait();
}

namespace emu {

// A warp shuffle: every lane of the (whole) warp publishes `value`, then reads the value of
// lane from(its own lane).
template <class V, class From>
V warp_shuffle(unsigned mask, V value, From from) {
  if (!threaded) fail("warp shuffle in a sequential launch");
  if (mask != 0xffffffffu) fail("partial warp mask");
  const unsigned t = linear_thread();
  if ((blockDim.x * blockDim.y * blockDim.z) % 32 != 0) fail("shuffle in a partial warp");
  Warp& w = warps[t / 32];
  w.values[t % 32] = static_cast<double>(value);
  w.barrier->arrive_and_wait();
  const V result = static_cast<V>(w.values[from(t % 32)]);
  w.barrier->arrive_and_wait();
  return result;
}

}  // namespace emu

template <class V>
V __shfl_xor_sync(unsigned mask, V value, int offset) {
  return emu::warp_shuffle(mask, value, [offset](unsigned lane) { return lane ^ static_cast<unsigned>(offset); });
}

// Lane `source`'s value to every lane (the attention kernels broadcast probabilities).
template <class V>
V __shfl_sync(unsigned mask, V value, int source) {
  return emu::warp_shuffle(mask, value, [source](unsigned) { return static_cast<unsigned>(source) % 32; });
}

inline bool __any_sync(unsigned mask, int predicate) {
  if (!emu::threaded) emu::fail("warp vote in a sequential launch");
  if (mask != 0xffffffffu) emu::fail("partial warp mask");
  const unsigned t = emu::linear_thread();
  emu::Warp& w = emu::warps[t / 32];
  w.values[t % 32] = predicate ? 1.0 : 0.0;
  w.barrier->arrive_and_wait();
  bool any = false;
  for (int l = 0; l < 32; ++l) any = any || w.values[l] != 0.0;
  w.barrier->arrive_and_wait();
  return any;
}

inline float __int_as_float(int bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline float __uint_as_float(unsigned bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

// Blocks run one after the other, so a flag another block publishes is there already,
// and a spin-wait that is never satisfied is an error, not a hang.
inline void __threadfence() {}
template <class T>
T __ldcg(const T* p) {
  return *p;
}
inline void __nanosleep(unsigned) {
  static thread_local long spins = 0;
  if (++spins > 1000000) emu::fail("a spin-wait was never satisfied (a look-back waits on a later block)");
}

// The fast intrinsics, as their exact counterparts (the emulation checks maps, not rounding).
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float x, float y) { return x / y; }

inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMallocAsync(void** p, std::size_t bytes, cudaStream_t) {
  ++emu::allocations;
  *p = std::malloc(bytes == 0 ? 1 : bytes);
  std::memset(*p, 0xFF, bytes);  // garbage, as fresh device memory
  return cudaSuccess;
}
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) {
  std::free(p);
  return cudaSuccess;
}
template <class K>
cudaError_t cudaFuncSetAttribute(K kernel, cudaFuncAttribute, int value) {
  if (value > 227 * 1024) emu::fail("shared memory opt-in over 227 KiB");
  emu::shared_opt_in[reinterpret_cast<const void*>(kernel)] = value;
  return cudaSuccess;
}

// ---- the CUB algorithms the embedding backward uses
namespace cub {
struct DeviceRadixSort {
  template <class K, class V, class N>
  static cudaError_t SortPairs(void* temp, std::size_t& bytes, const K* keys_in, K* keys_out,
                               const V* values_in, V* values_out, N n, int begin_bit, int end_bit,
                               cudaStream_t = nullptr) {
    if (temp == nullptr) {
      bytes = 256;
      return cudaSuccess;
    }
    if (bytes < 256) emu::fail("SortPairs: temporary storage too small");
    if (begin_bit < 0 || end_bit > static_cast<int>(8 * sizeof(K)) || begin_bit >= end_bit)
      emu::fail("SortPairs: bad bit range");
    using U = std::make_unsigned_t<K>;
    const U mask = end_bit - begin_bit >= static_cast<int>(8 * sizeof(K))
                       ? static_cast<U>(~U(0))
                       : static_cast<U>((U(1) << (end_bit - begin_bit)) - 1);
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    auto digit = [&](std::int64_t i) { return static_cast<U>(static_cast<U>(keys_in[i]) >> begin_bit) & mask; };
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return digit(a) < digit(b); });
    for (std::size_t i = 0; i < order.size(); ++i) {
      keys_out[i] = keys_in[order[i]];
      values_out[i] = values_in[order[i]];
    }
    return cudaSuccess;
  }
};
struct DeviceSelect {
  template <class In, class F, class Out, class Count>
  static cudaError_t Flagged(void* temp, std::size_t& bytes, In in, F flags, Out out, Count count,
                             std::int64_t n, cudaStream_t = nullptr) {
    if (temp == nullptr) {
      bytes = 128;
      return cudaSuccess;
    }
    if (bytes < 128) emu::fail("Flagged: temporary storage too small");
    std::int64_t k = 0;
    for (std::int64_t i = 0; i < n; ++i)
      if (flags[i]) out[k++] = in[i];
    *count = k;
    return cudaSuccess;
  }
};
}  // namespace cub

// ---- integer atomics (the sampling kernel's histograms): atomic on the host too, since a
// threaded launch runs a block's threads at once
inline unsigned atomicAdd(unsigned* address, unsigned value) {
  return std::atomic_ref<unsigned>(*address).fetch_add(value);
}
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
  return std::atomic_ref<unsigned long long>(*address).fetch_add(value);
}

#include "warp_matrix.h"
