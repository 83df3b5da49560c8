// CUDA embedding forward (row gather) and a deterministic backward (sort, then segmented
// sums; see kernels/cuda/embedding.h).
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/embedding.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 256;

template <class T>
__global__ void gather_kernel(const T* __restrict__ table, const std::int32_t* __restrict__ ids,
                              std::int64_t V, std::int64_t D, T* __restrict__ out) {
  const std::int64_t r = blockIdx.y;
  const std::int32_t id = ids[r];
  const bool valid = id >= 0 && id < V;
  for (std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < D;
       j += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    out[r * D + j] = valid ? table[id * D + j] : from_float<T>(NAN);
}

__global__ void iota_kernel(std::int32_t* __restrict__ positions, std::int64_t count) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) positions[i] = static_cast<std::int32_t>(i);
}

// Thread (i, column j): if sorted position i starts a run of equal ids, sum the run's rows
// in order and add the sum to the table row.
template <class G, class W>
__global__ void segment_sum_kernel(const std::int32_t* __restrict__ sorted_ids,
                                   const std::int32_t* __restrict__ positions, std::int64_t first,
                                   std::int64_t count, std::int64_t V, std::int64_t D,
                                   const G* __restrict__ dout, W* __restrict__ dtable) {
  const std::int64_t i = first + blockIdx.y;
  const std::int32_t id = sorted_ids[i];
  if ((i > 0 && sorted_ids[i - 1] == id) || id < 0 || id >= V) return;
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= D) return;
  float acc = 0.0f;
  for (std::int64_t k = i; k < count && sorted_ids[k] == id; ++k)
    acc += to_float(dout[static_cast<std::int64_t>(positions[k]) * D + j]);
  W* row = dtable + static_cast<std::int64_t>(id) * D;
  row[j] = from_float<W>(to_float(row[j]) + acc);
}

template <class Fn>
void visit(DType dtype, const char* what, Fn&& fn) {
  if (dtype == DType::f32) return fn(float{});
  if (dtype == DType::bf16) return fn(__nv_bfloat16{});
  throw Error(detail::concat("embedding (CUDA): ", what, " must be f32 or bf16, got ", dtype_name(dtype)));
}

}  // namespace

void embedding_forward(DType dtype, const void* table, const std::int32_t* ids,
                       std::int64_t count, std::int64_t V, std::int64_t D, void* out,
                       cudaStream_t stream) {
  if (count == 0 || D == 0) return;
  BIRDIE_CHECK(count <= 65535 * 1024LL, "embedding_forward (CUDA): too many ids in one call");
  const unsigned column_blocks = static_cast<unsigned>(std::min<std::int64_t>((D + threads - 1) / threads, 64));
  // Rows go in grid.y (≤ 65535): long inputs run in slices.
  for (std::int64_t first = 0; first < count; first += 65535) {
    const std::int64_t n = std::min<std::int64_t>(65535, count - first);
    visit(dtype, "table", [&](auto zero) {
      using T = decltype(zero);
      gather_kernel<T><<<dim3(column_blocks, static_cast<unsigned>(n)), threads, 0, stream>>>(
          static_cast<const T*>(table), ids + first, V, D, static_cast<T*>(out) + first * D);
    });
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  }
}

void embedding_backward(DType dout_dtype, DType table_dtype, const std::int32_t* ids,
                        std::int64_t count, std::int64_t V, std::int64_t D, const void* dout,
                        void* dtable, cudaStream_t stream) {
  if (count == 0 || D == 0) return;
  BIRDIE_CHECK(count <= INT32_MAX, "embedding_backward (CUDA): too many ids in one call");
  const int n = static_cast<int>(count);
  std::int32_t *positions = nullptr, *sorted_ids = nullptr, *sorted_positions = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&positions), sizeof(std::int32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&sorted_ids), sizeof(std::int32_t) * n, stream));
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&sorted_positions), sizeof(std::int32_t) * n, stream));
  iota_kernel<<<static_cast<unsigned>((count + threads - 1) / threads), threads, 0, stream>>>(positions, count);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  // Ids are sorted as unsigned bit patterns over all 32 bits, so negative (invalid) ids
  // sort last and are then skipped.
  std::size_t temp_bytes = 0;
  BIRDIE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes,
                                                    reinterpret_cast<const std::uint32_t*>(ids),
                                                    reinterpret_cast<std::uint32_t*>(sorted_ids),
                                                    positions, sorted_positions, n, 0, 32, stream));
  void* temp = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(&temp, std::max<std::size_t>(temp_bytes, 1), stream));
  BIRDIE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes,
                                                    reinterpret_cast<const std::uint32_t*>(ids),
                                                    reinterpret_cast<std::uint32_t*>(sorted_ids),
                                                    positions, sorted_positions, n, 0, 32, stream));
  const unsigned column_blocks = static_cast<unsigned>((D + threads - 1) / threads);
  visit(dout_dtype, "dout", [&](auto gz) {
    visit(table_dtype, "dtable", [&](auto wz) {
      using G = decltype(gz);
      using W = decltype(wz);
      for (std::int64_t first = 0; first < count; first += 65535) {
        const std::int64_t rows = std::min<std::int64_t>(65535, count - first);
        // Each slice handles the runs that start inside it (a run may extend past it).
        segment_sum_kernel<G, W><<<dim3(column_blocks, static_cast<unsigned>(rows)), threads, 0, stream>>>(
            sorted_ids, sorted_positions, first, count, V, D,
            static_cast<const G*>(dout), static_cast<W*>(dtable));
      }
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  for (void* p : {static_cast<void*>(positions), static_cast<void*>(sorted_ids),
                  static_cast<void*>(sorted_positions), temp})
    BIRDIE_CUDA_CHECK(cudaFreeAsync(p, stream));
}

}  // namespace birdie::kernels::cuda
