// CUDA embedding forward (row gather) and a deterministic backward (sort, then segmented
// sums; see kernels/cuda/embedding.h). All launches are 1-D grid-stride loops with 64-bit
// indices over (row, column group) pairs: no grid.y limit, no 2^31-element overflow.
// A column group is VEC adjacent columns (VEC = 16/sizeof(element) when D is a multiple of
// it, else 1), one 16-byte access when the pointers are aligned, else VEC scalar ones.
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_select.cuh>

#include <algorithm>
#include <bit>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/embedding.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;
unsigned blocks_for(std::int64_t n) { return grid_stride_blocks(n, threads); }

__device__ __forceinline__ std::int64_t first_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::int64_t grid_stride() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

// out[r, g·VEC + k] = table[ids[r], g·VEC + k] (a copy, bits unchanged), or NaN for an id
// outside [0, V).
template <class T, int VEC>
__global__ void gather_kernel(const T* __restrict__ table, const std::int32_t* __restrict__ ids,
                              std::int64_t count, std::int64_t V, std::int64_t D, bool vector,
                              T* __restrict__ out) {
  const std::int64_t groups = D / VEC;
  for (std::int64_t i = first_index(); i < count * groups; i += grid_stride()) {
    const std::int64_t r = i / groups, g = i % groups;
    const std::int32_t id = ids[r];
    T* dst = out + r * D + g * VEC;
    if (id < 0 || id >= V) {
#pragma unroll
      for (int k = 0; k < VEC; ++k) dst[k] = from_float<T>(NAN);
      continue;
    }
    const T* src = table + static_cast<std::int64_t>(id) * D + g * VEC;
    if (vector) {
      *reinterpret_cast<Packed<T, VEC>*>(dst) = *reinterpret_cast<const Packed<T, VEC>*>(src);
    } else {
#pragma unroll
      for (int k = 0; k < VEC; ++k) dst[k] = src[k];
    }
  }
}

// keys[i] = ids[i] when it is in [0, V), else V (sorts after every valid id and is then
// skipped); positions[i] = i. Keys are in [0, V], so the sort needs bit_width(V) bits.
__global__ void prepare_keys(const std::int32_t* __restrict__ ids, std::int64_t count, std::int64_t V,
                             std::uint32_t* __restrict__ keys, std::int32_t* __restrict__ positions) {
  for (std::int64_t i = first_index(); i < count; i += grid_stride()) {
    const std::int32_t id = ids[i];
    keys[i] = id >= 0 && id < V ? static_cast<std::uint32_t>(id) : static_cast<std::uint32_t>(V);
    positions[i] = static_cast<std::int32_t>(i);
  }
}

// flags[i] = 1 where sorted position i starts a run of equal keys (the invalid key's run,
// last in the order, included: it bounds the run before it).
__global__ void run_start_flags(const std::uint32_t* __restrict__ sorted_keys, std::int64_t count,
                                std::uint8_t* __restrict__ flags) {
  for (std::int64_t i = first_index(); i < count; i += grid_stride())
    flags[i] = i == 0 || sorted_keys[i - 1] != sorted_keys[i] ? 1 : 0;
}

// Work item (run, column group g): sum the run's dout rows at g in sorted order (the sort
// is stable, so that is position order) in f32, then add the sum to the table row once.
// Runs have distinct keys, so no two items touch the same table element; the run of the
// invalid key is skipped. `run_count` is on the device (the select's output); items past
// it exit. A run ends where the next starts (or at count), so the loop's loads do not
// wait on a key comparison.
template <class G, class W, int VEC>
__global__ void segment_sum_kernel(const std::uint32_t* __restrict__ sorted_keys,
                                   const std::int32_t* __restrict__ sorted_positions,
                                   const std::int32_t* __restrict__ run_starts,
                                   const std::int64_t* __restrict__ run_count, std::int64_t count,
                                   std::uint32_t invalid, std::int64_t D, bool vector_dout,
                                   bool vector_table, const G* __restrict__ dout,
                                   W* __restrict__ dtable) {
  const std::int64_t groups = D / VEC;
  const std::int64_t runs = *run_count;
  for (std::int64_t i = first_index(); i < runs * groups; i += grid_stride()) {
    const std::int64_t run = i / groups, g = i % groups;
    const std::int64_t start = run_starts[run];
    const std::int64_t end = run + 1 < runs ? run_starts[run + 1] : count;
    const std::uint32_t id = sorted_keys[start];
    if (id == invalid) continue;
    float acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) acc[k] = 0.0f;
#pragma unroll 4
    for (std::int64_t s = start; s < end; ++s) {
      float v[VEC];
      load_group<G, VEC>(dout + static_cast<std::int64_t>(sorted_positions[s]) * D + g * VEC, vector_dout, v);
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] += v[k];
    }
    W* row = dtable + static_cast<std::int64_t>(id) * D + g * VEC;
    float current[VEC];
    load_group<W, VEC>(row, vector_table, current);
#pragma unroll
    for (int k = 0; k < VEC; ++k) current[k] += acc[k];
    store_group<W, VEC>(row, vector_table, current);
  }
}

bool aligned(const void* p, std::size_t bytes) { return reinterpret_cast<std::uintptr_t>(p) % bytes == 0; }

}  // namespace

void embedding_forward(DType dtype, const void* table, const std::int32_t* ids,
                       std::int64_t count, std::int64_t V, std::int64_t D, void* out,
                       cudaStream_t stream) {
  if (count == 0 || D == 0) return;
  dispatch_f32_bf16(dtype, "embedding", "table", [&](auto zero) {
    using T = decltype(zero);
    constexpr int vec = 16 / sizeof(T);
    const T* t = static_cast<const T*>(table);
    T* o = static_cast<T*>(out);
    if (D % vec == 0)
      gather_kernel<T, vec><<<blocks_for(count * (D / vec)), threads, 0, stream>>>(
          t, ids, count, V, D, aligned(table, 16) && aligned(out, 16), o);
    else
      gather_kernel<T, 1><<<blocks_for(count * D), threads, 0, stream>>>(t, ids, count, V, D, false, o);
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void embedding_backward(DType dout_dtype, DType table_dtype, const std::int32_t* ids,
                        std::int64_t count, std::int64_t V, std::int64_t D, const void* dout,
                        void* dtable, cudaStream_t stream) {
  if (count == 0 || D == 0 || V == 0) return;  // V == 0: every id is outside the table
  BIRDIE_CHECK(count <= INT32_MAX, "embedding_backward (CUDA): too many ids in one call");
  BIRDIE_CHECK(V <= INT32_MAX, "embedding_backward (CUDA): too many rows in the table");
  const int n = static_cast<int>(count);
  // Keys in [0, V] (V marks an invalid id): sort only the bits V needs.
  const int end_bit = std::bit_width(static_cast<std::uint32_t>(V));
  std::uint32_t *keys = nullptr, *sorted_keys = nullptr;
  std::int32_t *positions = nullptr, *sorted_positions = nullptr, *run_starts = nullptr;
  std::int64_t* run_count = nullptr;
  std::uint8_t* flags = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&keys), sizeof(std::uint32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&sorted_keys), sizeof(std::uint32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&positions), sizeof(std::int32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&sorted_positions), sizeof(std::int32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&run_starts), sizeof(std::int32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&run_count), sizeof(std::int64_t), stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&flags), sizeof(std::uint8_t) * n, stream));
  prepare_keys<<<blocks_for(count), threads, 0, stream>>>(ids, count, V, keys, positions);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  // One temporary buffer, big enough for the sort and for the select (run on one stream,
  // one after the other).
  std::size_t sort_bytes = 0, select_bytes = 0;
  BIRDIE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys, sorted_keys, positions,
                                                    sorted_positions, n, 0, end_bit, stream));
  BIRDIE_CUDA_CHECK(cub::DeviceSelect::Flagged(nullptr, select_bytes, positions, flags, run_starts,
                                               run_count, count, stream));
  const std::size_t temp_bytes = std::max<std::size_t>({sort_bytes, select_bytes, 1});
  void* temp = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(&temp, temp_bytes, stream));
  std::size_t bytes = temp_bytes;
  BIRDIE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, bytes, keys, sorted_keys, positions,
                                                    sorted_positions, n, 0, end_bit, stream));
  run_start_flags<<<blocks_for(count), threads, 0, stream>>>(sorted_keys, count, flags);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  // run_starts = the sorted positions i where a run starts (positions is still 0..n−1).
  bytes = temp_bytes;
  BIRDIE_CUDA_CHECK(cub::DeviceSelect::Flagged(temp, bytes, positions, flags, run_starts, run_count,
                                               count, stream));
  dispatch_f32_bf16(dout_dtype, "embedding", "dout", [&](auto gz) {
    dispatch_f32_bf16(table_dtype, "embedding", "dtable", [&](auto wz) {
      using G = decltype(gz);
      using W = decltype(wz);
      constexpr int vec = 16 / sizeof(G);
      const auto invalid = static_cast<std::uint32_t>(V);
      // Work items: at most count runs × column groups; the grid is capped and strides.
      if (D % vec == 0)
        segment_sum_kernel<G, W, vec><<<blocks_for(count * (D / vec)), threads, 0, stream>>>(
            sorted_keys, sorted_positions, run_starts, run_count, count, invalid, D, aligned(dout, 16),
            aligned(dtable, sizeof(W) * vec), static_cast<const G*>(dout), static_cast<W*>(dtable));
      else
        segment_sum_kernel<G, W, 1><<<blocks_for(count * D), threads, 0, stream>>>(
            sorted_keys, sorted_positions, run_starts, run_count, count, invalid, D, false, false,
            static_cast<const G*>(dout), static_cast<W*>(dtable));
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  for (void* p : {static_cast<void*>(keys), static_cast<void*>(sorted_keys), static_cast<void*>(positions),
                  static_cast<void*>(sorted_positions), static_cast<void*>(run_starts),
                  static_cast<void*>(run_count), static_cast<void*>(flags), temp})
    BIRDIE_CUDA_CHECK(cudaFreeAsync(p, stream));
}

}  // namespace birdie::kernels::cuda
