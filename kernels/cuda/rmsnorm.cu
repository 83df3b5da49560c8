// CUDA RMSNorm forward (optionally fused with the residual add) and backward. A block per
// row (grid-stride over rows); the weight gradient is a fixed-order two-pass column
// reduction.
//
// A thread owns groups of VEC adjacent columns: group g = columns g·VEC .. g·VEC+VEC−1,
// groups g ≡ threadIdx.x (mod blockDim.x). VEC = 16/sizeof(T) when D is a multiple of it,
// else 1. With VEC > 1 each group is one 16-byte access when every pointer is 16-byte
// aligned (row starts are then aligned too), else VEC scalar accesses: the same values
// in the same order, so the results do not depend on the pointers' alignment.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/dispatch.cuh"
#include "kernels/cuda/rmsnorm.h"

namespace birdie::kernels::cuda {

namespace {

constexpr int max_threads = 256;
// The backward's grid: at least 8 rows per block (the f32 partials it writes and the
// finish reads are then at most a quarter of a bf16 row's traffic), at most 1024 blocks
// (about one full wave of 256-thread blocks on an H100), and at least min(rows, 256)
// blocks. It depends on the shape only, so the summation order is the same on every GPU.
constexpr std::int64_t min_rows_per_block = 8;
constexpr std::int64_t min_backward_blocks = 256;
constexpr std::int64_t max_backward_blocks = 1024;
// The forward's grid: a block per row up to this, grid-stride beyond.
constexpr std::int64_t max_forward_blocks = 1 << 20;

// A multiple of 32 (block_sum), at most max_threads, no more than the row has groups.
int threads_for(std::int64_t groups) {
  return static_cast<int>(std::clamp<std::int64_t>((groups + 31) / 32 * 32, 32, max_threads));
}

template <class T, class S, int VEC>
__global__ void __launch_bounds__(max_threads)
rmsnorm_forward_kernel(const T* __restrict__ x, const T* __restrict__ residual,
                       T* __restrict__ residual_out, const T* __restrict__ weight, float eps,
                       std::int64_t rows, std::int64_t D, bool vector, T* __restrict__ y,
                       S* __restrict__ inv_rms) {
  __shared__ float scratch[32];
  const std::int64_t groups = D / VEC;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = r * D;
    float squares = 0.0f;
    for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const std::int64_t at = base + g * VEC;
      float v[VEC];
      load_group<T, VEC>(x + at, vector, v);
      if (residual) {
        float rv[VEC];
        load_group<T, VEC>(residual + at, vector, rv);
#pragma unroll
        for (int k = 0; k < VEC; ++k) v[k] = to_float(from_float<T>(v[k] + rv[k]));
        store_group<T, VEC>(residual_out + at, vector, v);  // exact: v is already rounded
      }
#pragma unroll
      for (int k = 0; k < VEC; ++k) squares += v[k] * v[k];
    }
    squares = block_sum(squares, scratch);
    const float inv = 1.0f / sqrtf(squares / static_cast<float>(D) + eps);
    if (threadIdx.x == 0) inv_rms[r] = from_float<S>(inv);
    // The stored statistic is what the backward pass will use; normalize with it too.
    const float inv_used = to_float(from_float<S>(inv));
    for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const std::int64_t at = base + g * VEC;
      float v[VEC], w[VEC], out[VEC];
      // residual_out was written by this thread above (same groups).
      load_group<T, VEC>(residual ? residual_out + at : x + at, vector, v);
      load_group<T, VEC>(weight + g * VEC, vector, w);
#pragma unroll
      for (int k = 0; k < VEC; ++k) out[k] = v[k] * inv_used * w[k];
      store_group<T, VEC>(y + at, vector, out);
    }
  }
}

// dx (+)= inv · (dy⊙w − n · mean(dy⊙w⊙n)), n = x·inv; partial[block, j] = Σ_rows dy⊙n over
// this block's rows (rows blockIdx.x, +gridDim.x, ... in order). Each thread owns the
// accumulators of its groups, so there are no atomics and no barriers around them. Column
// g·VEC + k accumulates at column_acc[k·groups + g]: a warp's accesses for one k are
// consecutive words (no bank conflicts).
template <class T, class S, int VEC>
__global__ void __launch_bounds__(max_threads)
rmsnorm_backward_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                        const S* __restrict__ inv_rms, const T* __restrict__ dy,
                        std::int64_t rows, std::int64_t D, bool vector, bool accumulate_dx,
                        T* __restrict__ dx, float* __restrict__ partial) {
  extern __shared__ float column_acc[];
  __shared__ float scratch[32];
  const std::int64_t groups = D / VEC;
  for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x)
#pragma unroll
    for (int k = 0; k < VEC; ++k) column_acc[k * groups + g] = 0.0f;
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const std::int64_t base = r * D;
    const float inv = to_float(inv_rms[r]);
    float dot = 0.0f;
    for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const std::int64_t at = base + g * VEC;
      float gv[VEC], wv[VEC], xv[VEC];
      load_group<T, VEC>(dy + at, vector, gv);
      load_group<T, VEC>(weight + g * VEC, vector, wv);
      load_group<T, VEC>(x + at, vector, xv);
#pragma unroll
      for (int k = 0; k < VEC; ++k) dot += gv[k] * wv[k] * xv[k] * inv;
    }
    dot = block_sum(dot, scratch);
    const float mean_dot = dot / static_cast<float>(D);
    for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x) {
      const std::int64_t at = base + g * VEC;
      float gv[VEC], wv[VEC], xv[VEC], out[VEC];
      load_group<T, VEC>(dy + at, vector, gv);
      load_group<T, VEC>(weight + g * VEC, vector, wv);
      load_group<T, VEC>(x + at, vector, xv);
      if (accumulate_dx) load_group<T, VEC>(dx + at, vector, out);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float n = xv[k] * inv;
        const float d = inv * (gv[k] * wv[k] - n * mean_dot);
        out[k] = accumulate_dx ? out[k] + d : d;
        column_acc[k * groups + g] += gv[k] * n;
      }
      store_group<T, VEC>(dx + at, vector, out);
    }
  }
  float* mine = partial + static_cast<std::int64_t>(blockIdx.x) * D;
  for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x)
#pragma unroll
    for (int k = 0; k < VEC; ++k) mine[g * VEC + k] = column_acc[k * groups + g];
}

// dweight[j] += Σ_b partial[b, j] in a fixed order: block (32, 8) covers 32 adjacent
// columns; thread row y sums partial rows y, y+8, y+16, ... in ascending order, then
// thread row 0 adds the 8 sums in order y = 0..7.
constexpr int finish_columns = 32, finish_rows = 8;

template <class W>
__global__ void __launch_bounds__(finish_columns * finish_rows)
weight_gradient_finish(const float* __restrict__ partial, int blocks, std::int64_t D,
                       W* __restrict__ dweight) {
  __shared__ float sums[finish_rows][finish_columns];
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * finish_columns + threadIdx.x;
  float acc = 0.0f;
  if (j < D)
    for (int b = threadIdx.y; b < blocks; b += finish_rows) acc += partial[b * D + j];
  sums[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y != 0 || j >= D) return;
  float total = 0.0f;
#pragma unroll
  for (int y = 0; y < finish_rows; ++y) total += sums[y][threadIdx.x];
  dweight[j] = from_float<W>(to_float(dweight[j]) + total);
}

}  // namespace

void rmsnorm_forward(DType dtype, DType stats, const void* x, const void* residual,
                     void* residual_out, const void* weight, double eps, std::int64_t rows,
                     std::int64_t D, void* y, void* inv_rms, cudaStream_t stream) {
  if (rows == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min(rows, max_forward_blocks));
  const bool vector = all_aligned16({x, residual, residual_out, weight, y});
  dispatch_f32_bf16(dtype, "rmsnorm", "x", [&](auto xz) {
    dispatch_f32_bf16(stats, "rmsnorm", "inv_rms", [&](auto sz) {
      using T = decltype(xz);
      using S = decltype(sz);
      constexpr int vec = 16 / sizeof(T);
      const auto launch = [&](auto kernel, std::int64_t groups, bool vectors) {
        kernel<<<blocks, threads_for(groups), 0, stream>>>(
            static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(residual_out),
            static_cast<const T*>(weight), static_cast<float>(eps), rows, D, vectors,
            static_cast<T*>(y), static_cast<S*>(inv_rms));
      };
      if (D % vec == 0)
        launch(rmsnorm_forward_kernel<T, S, vec>, D / vec, vector);
      else
        launch(rmsnorm_forward_kernel<T, S, 1>, D, false);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm_backward(DType dtype, DType stats, DType dweight_dtype, const void* x,
                      const void* weight, const void* inv_rms, const void* dy, std::int64_t rows,
                      std::int64_t D, void* dx, void* dweight, bool accumulate_dx,
                      cudaStream_t stream) {
  if (rows == 0 || D == 0) return;
  BIRDIE_CHECK(D <= 40960, "rmsnorm_backward (CUDA): the row width ", D,
               " exceeds 40960 (the weight-gradient accumulator lives in shared memory)");
  const int blocks = static_cast<int>(std::min(
      rows, std::clamp((rows + min_rows_per_block - 1) / min_rows_per_block, min_backward_blocks,
                       max_backward_blocks)));
  float* partial = nullptr;
  BIRDIE_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partial), sizeof(float) * blocks * D, stream));
  const std::size_t shared = sizeof(float) * D;
  const bool vector = all_aligned16({x, weight, dy, dx});
  dispatch_f32_bf16(dtype, "rmsnorm", "x", [&](auto xz) {
    dispatch_f32_bf16(stats, "rmsnorm", "inv_rms", [&](auto sz) {
      using T = decltype(xz);
      using S = decltype(sz);
      constexpr int vec = 16 / sizeof(T);
      const auto launch = [&](auto kernel, std::int64_t groups, bool vectors) {
        if (shared > 48 * 1024)
          BIRDIE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                 static_cast<int>(shared)));
        kernel<<<blocks, threads_for(groups), shared, stream>>>(
            static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const S*>(inv_rms),
            static_cast<const T*>(dy), rows, D, vectors, accumulate_dx, static_cast<T*>(dx), partial);
      };
      if (D % vec == 0)
        launch(rmsnorm_backward_kernel<T, S, vec>, D / vec, vector);
      else
        launch(rmsnorm_backward_kernel<T, S, 1>, D, false);
    });
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  dispatch_f32_bf16(dweight_dtype, "rmsnorm", "dweight", [&](auto wz) {
    using W = decltype(wz);
    weight_gradient_finish<W>
        <<<static_cast<unsigned>((D + finish_columns - 1) / finish_columns), dim3(finish_columns, finish_rows), 0,
           stream>>>(partial, blocks, D, static_cast<W*>(dweight));
  });
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  BIRDIE_CUDA_CHECK(cudaFreeAsync(partial, stream));
}

}  // namespace birdie::kernels::cuda
