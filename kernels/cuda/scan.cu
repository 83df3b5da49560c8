// CUDA gated scan, forward and backward (see kernels/cuda/scan.h for the algorithm and
// kernels/scan.h for the semantics). One thread owns VEC adjacent channels of one
// (batch row, chunk): VEC·sizeof(T) = 16 bytes when the channel count allows aligned
// vector access, else VEC = 1. A vector never straddles the causal/reverse halves.
// grid = (channel groups / 64, min(B·chunks, 65535)): blockIdx.y strides over the
// (batch row, chunk) pairs, so neither B nor the chunk count meets a grid limit.
//
// Gates: each pass computes σ(i), σ(f) (and GeLU(o)) once per element it loads; the
// reduce and rescan passes (and the backward's state rebuild and walk-back) recompute
// them rather than store them, because storing would add a gate-sized write and read to
// a memory-bound kernel, and shared memory has no room for them next to the states.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/kernel_choice.h"
#include "kernels/cuda/scan.h"
#include "kernels/cuda/scan_common.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int block_threads = 64;
constexpr int L = static_cast<int>(scan_chunk_length);

// One step of the gated scan for the thread's channels, p the token's gates (i, f, z, o):
// h ← f·h + σ(i)·z with f = σ(f), 0 where blocked; f the step's forget gate.
template <class T, int VEC>
__device__ __forceinline__ void gated_step(const T* p, const ScanShape& s, bool blk, float (&h)[VEC], float (&f)[VEC]) {
  float iv[VEC], fv[VEC], zv[VEC];
  load_vec<T, VEC>(p, iv);
  load_vec<T, VEC>(p + s.N, fv);
  load_vec<T, VEC>(p + 2 * s.N, zv);
#pragma unroll
  for (int k = 0; k < VEC; ++k) {
    f[k] = blk ? 0.0f : sigmoid(fv[k]);
    h[k] = f[k] * h[k] + sigmoid(iv[k]) * zv[k];
  }
}

// Phase 1 forward: h_end = A·h_start + B over the chunk.
template <class T, int VEC>
__global__ void __launch_bounds__(block_threads)
scan_forward_reduce(const T* __restrict__ proj, const std::int32_t* __restrict__ reset,
                    ScanShape s, float* __restrict__ chunk_a, float* __restrict__ chunk_b) {
  const std::int64_t c0 = first_channel<VEC>(s);
  if (c0 < 0) return;
  for_each_chunk_lane(s, c0, L, reset, [&](const ScanLane& lane, const std::int32_t* reset_row) {
    const std::int64_t b = lane.b;
    float a_acc[VEC], b_acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) a_acc[k] = 1.0f, b_acc[k] = 0.0f;
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const T* p = proj + (b * s.T + t) * 4 * s.N + lane.c0;
      float f[VEC];
      gated_step<T, VEC>(p, s, blocked(reset_row, s, lane.reverse, t), b_acc, f);
#pragma unroll
      for (int k = 0; k < VEC; ++k) a_acc[k] *= f[k];
    }
    store_chunk<VEC>(s, lane, a_acc, b_acc, chunk_a, chunk_b);
  });
}

// Phase 2 (both passes, of the RG-LRU scan too: launch_chunk_carries, scan_common.cuh): a
// sequential scan over chunks per (batch row, channel): entering[k] = carry; carry =
// A[k]·carry + B[k]. Ascending chunks for the forward pass, descending for the backward
// pass (chunks are in each lane's scan order).
__global__ void scan_chunk_carries(const float* __restrict__ chunk_a, const float* __restrict__ chunk_b,
                                   std::int64_t B, std::int64_t C, std::int64_t N, bool descending,
                                   float* __restrict__ entering) {
  const std::int64_t index = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= B * N) return;
  const std::int64_t b = index / N, c = index % N;
  float carry = 0.0f;
  for (std::int64_t i = 0; i < C; ++i) {
    const std::int64_t k = descending ? C - 1 - i : i;
    const std::int64_t at = (b * C + k) * N + c;
    entering[at] = carry;
    carry = chunk_a[at] * carry + chunk_b[at];
  }
}

// Phase 3 forward: rescan each chunk from its entering state, write y.
template <class T, int VEC>
__global__ void __launch_bounds__(block_threads)
scan_forward_rescan(const T* __restrict__ proj, const std::int32_t* __restrict__ reset,
                    ScanShape s, const float* __restrict__ entering, T* __restrict__ y) {
  const std::int64_t c0 = first_channel<VEC>(s);
  if (c0 < 0) return;
  for_each_chunk_lane(s, c0, L, reset, [&](const ScanLane& lane, const std::int32_t* reset_row) {
    const std::int64_t b = lane.b;
    float h[VEC];
    load_chunk<VEC>(s, lane, entering, h);
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const T* p = proj + (b * s.T + t) * 4 * s.N + lane.c0;
      float f[VEC], ov[VEC], out[VEC];
      gated_step<T, VEC>(p, s, blocked(reset_row, s, lane.reverse, t), h, f);
      load_vec<T, VEC>(p + 3 * s.N, ov);
#pragma unroll
      for (int k = 0; k < VEC; ++k) out[k] = gelu(ov[k]) * h[k];
      store_vec<T, VEC>(y + (b * s.T + t) * s.N + lane.c0, out);
    }
  });
}

// Phase 1 backward: carry_out = A·carry_in + B for carry ← f·(carry + dy·GeLU(o)), walking
// the chunk against the scan order.
template <class T, int VEC>
__global__ void __launch_bounds__(block_threads)
scan_backward_reduce(const T* __restrict__ proj, const std::int32_t* __restrict__ reset,
                     ScanShape s, const T* __restrict__ dy, float* __restrict__ chunk_a,
                     float* __restrict__ chunk_b) {
  const std::int64_t c0 = first_channel<VEC>(s);
  if (c0 < 0) return;
  for_each_chunk_lane(s, c0, L, reset, [&](const ScanLane& lane, const std::int32_t* reset_row) {
    const std::int64_t b = lane.b;
    float a_acc[VEC], b_acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) a_acc[k] = 1.0f, b_acc[k] = 0.0f;
    for (std::int64_t step = lane.step1 - 1; step >= lane.step0; --step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const T* p = proj + (b * s.T + t) * 4 * s.N + lane.c0;
      const bool blk = blocked(reset_row, s, lane.reverse, t);
      float fv[VEC], ov[VEC], gv[VEC];
      load_vec<T, VEC>(p + s.N, fv);
      load_vec<T, VEC>(p + 3 * s.N, ov);
      load_vec<T, VEC>(dy + (b * s.T + t) * s.N + lane.c0, gv);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float f = blk ? 0.0f : sigmoid(fv[k]);
        b_acc[k] = f * (b_acc[k] + gv[k] * gelu(ov[k]));
        a_acc[k] *= f;
      }
    }
    store_chunk<VEC>(s, lane, a_acc, b_acc, chunk_a, chunk_b);
  });
}

// Phase 3 backward: recompute the chunk's states from the saved entering state (kept in
// shared memory, each thread its own slots), then walk the chunk back writing dproj.
// Channel k of a thread's vector lives in column k·64 + threadIdx.x of a step's row, so a
// warp's 32 accesses for one k are 32 consecutive words (no bank conflicts; the former
// threadIdx.x·VEC + k put a warp on 32/VEC banks). Only the thread itself touches its
// slots, in program order, so no barrier is needed.
template <class T, int VEC>
__global__ void __launch_bounds__(block_threads)
scan_backward_rescan(const T* __restrict__ proj, const std::int32_t* __restrict__ reset,
                     ScanShape s, const float* __restrict__ saved,
                     const float* __restrict__ carry_in, const T* __restrict__ dy,
                     T* __restrict__ dproj) {
  __shared__ float states[L][VEC * block_threads];
  const std::int64_t c0 = first_channel<VEC>(s);
  if (c0 < 0) return;
  const int slot = threadIdx.x;  // channel k at slot + k·block_threads
  for_each_chunk_lane(s, c0, L, reset, [&](const ScanLane& lane, const std::int32_t* reset_row) {
    const std::int64_t b = lane.b;
    const std::int64_t at = chunk_index(s, lane);
    float h_start[VEC], h[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) h_start[k] = h[k] = saved[at + k];
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const T* p = proj + (b * s.T + t) * 4 * s.N + lane.c0;
      float f[VEC];
      gated_step<T, VEC>(p, s, blocked(reset_row, s, lane.reverse, t), h, f);
#pragma unroll
      for (int k = 0; k < VEC; ++k) states[step - lane.step0][slot + k * block_threads] = h[k];
    }
    float carry[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) carry[k] = carry_in[at + k];
    for (std::int64_t step = lane.step1 - 1; step >= lane.step0; --step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const std::int64_t row = b * s.T + t;
      const T* p = proj + row * 4 * s.N + lane.c0;
      T* d = dproj + row * 4 * s.N + lane.c0;
      const bool blk = blocked(reset_row, s, lane.reverse, t);
      const int local = static_cast<int>(step - lane.step0);
      float iv[VEC], fv[VEC], zv[VEC], ov[VEC], gv[VEC];
      load_vec<T, VEC>(p, iv);
      load_vec<T, VEC>(p + s.N, fv);
      load_vec<T, VEC>(p + 2 * s.N, zv);
      load_vec<T, VEC>(p + 3 * s.N, ov);
      load_vec<T, VEC>(dy + row * s.N + lane.c0, gv);
      float di[VEC], df[VEC], dz[VEC], dout[VEC];
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float hk = states[local][slot + k * block_threads];
        const float h_in = local > 0 ? states[local - 1][slot + k * block_threads] : h_start[k];
        const float e = gelu_erf(ov[k]);  // one erff for GeLU(o) and GeLU'(o)
        const float dh = gv[k] * gelu_from_erf(ov[k], e) + carry[k];
        const float si = sigmoid(iv[k]);
        const float f = blk ? 0.0f : sigmoid(fv[k]);
        di[k] = dh * zv[k] * si * (1.0f - si);
        df[k] = blk ? 0.0f : dh * h_in * f * (1.0f - f);
        dz[k] = dh * si;
        dout[k] = gv[k] * hk * gelu_derivative_from_erf(ov[k], e);
        carry[k] = f * dh;
      }
      store_vec<T, VEC>(d, di);
      store_vec<T, VEC>(d + s.N, df);
      store_vec<T, VEC>(d + 2 * s.N, dz);
      store_vec<T, VEC>(d + 3 * s.N, dout);
    }
  });
}

dim3 scan_grid(const ScanShape& s, int vec) { return chunked_scan_grid(s, vec, block_threads, "gated scan"); }

template <class T, int VEC>
void forward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, T* y,
                   float* saved, float* scratch, cudaStream_t stream) {
  const dim3 grid = scan_grid(s, VEC);
  float* chunk_a = scratch;
  float* chunk_b = scratch + s.B * s.C * s.N;
  scan_forward_reduce<T, VEC><<<grid, block_threads, 0, stream>>>(proj, reset, s, chunk_a, chunk_b);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  launch_chunk_carries(chunk_a, chunk_b, s, false, saved, stream);
  scan_forward_rescan<T, VEC><<<grid, block_threads, 0, stream>>>(proj, reset, s, saved, y);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

template <class T, int VEC>
void backward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s,
                    const float* saved, const T* dy, T* dproj, float* scratch,
                    cudaStream_t stream) {
  const dim3 grid = scan_grid(s, VEC);
  const std::int64_t plane = s.B * s.C * s.N;
  float* chunk_a = scratch;
  float* chunk_b = scratch + plane;
  float* carry_in = scratch + 2 * plane;
  scan_backward_reduce<T, VEC><<<grid, block_threads, 0, stream>>>(proj, reset, s, dy, chunk_a, chunk_b);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
  launch_chunk_carries(chunk_a, chunk_b, s, true, carry_in, stream);
  scan_backward_rescan<T, VEC><<<grid, block_threads, 0, stream>>>(proj, reset, s, saved, carry_in, dy, dproj);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void launch_chunk_carries(const float* chunk_a, const float* chunk_b, const ScanShape& s, bool descending,
                          float* entering, cudaStream_t stream) {
  const std::int64_t lanes = s.B * s.N;
  constexpr int threads = 256;
  scan_chunk_carries<<<static_cast<unsigned>((lanes + threads - 1) / threads), threads, 0, stream>>>(
      chunk_a, chunk_b, s.B, s.C, s.N, descending, entering);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

namespace {

KernelChoice<ScanKernel> scan_choice("BIRDIE_SCAN_KERNEL", scan_kernels, scan_kernel_name, ScanKernel::by_shape);

}  // namespace

ScanKernel scan_kernel() { return scan_choice.get(); }
void set_scan_kernel(ScanKernel kernel) { scan_choice.set(kernel); }
void clear_scan_kernel_choice() { scan_choice.clear(); }
const char* scan_kernel_name(ScanKernel kernel) {
  switch (kernel) {
    case ScanKernel::three_pass: return "three_pass";
    case ScanKernel::one_pass: return "one_pass";
    case ScanKernel::one_pass_split4: return "one_pass_split4";
    case ScanKernel::one_pass_split8: return "one_pass_split8";
    case ScanKernel::one_pass_tile32: return "one_pass_tile32";
    case ScanKernel::one_pass_tile64: return "one_pass_tile64";
    case ScanKernel::by_shape: return "by_shape";
  }
  return "?";
}

namespace {

// by_shape's forward: one_pass when a chunk has at most 64 tiles of 32 lanes × 16 bytes of
// channels (over all rows), one_pass_split4 otherwise (scan.h says why).
ScanKernel forward_kernel(DType dtype, std::int64_t B, std::int64_t N) {
  const ScanKernel kernel = scan_kernel();
  if (kernel != ScanKernel::by_shape) return kernel;
  constexpr std::int64_t tile_bytes = 32 * 16, max_tiles = 64;
  const bool few_tiles = B * N * static_cast<std::int64_t>(dtype_size(dtype)) <= max_tiles * tile_bytes;
  return few_tiles ? ScanKernel::one_pass : ScanKernel::one_pass_split4;
}

ScanKernel backward_kernel() {
  const ScanKernel kernel = scan_kernel();
  return kernel == ScanKernel::by_shape ? ScanKernel::one_pass_split4 : kernel;
}

}  // namespace

void gated_scan_forward(DType dtype, const void* proj, const std::int32_t* reset,
                        bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                        void* y, float* saved, float* scratch, cudaStream_t stream) {
  const ScanKernel kernel = forward_kernel(dtype, B, N);
  if (kernel == ScanKernel::one_pass)
    return gated_scan_forward_one_pass(dtype, proj, reset, bidirectional, B, T, N, y, saved, scratch, stream);
  if (is_split_scan_kernel(kernel))
    return gated_scan_forward_split(kernel, dtype, proj, reset, bidirectional, B, T, N, y, saved, scratch, stream);
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, y}, "gated_scan_forward", [&](auto zero, auto vec) {
    using E = decltype(zero);
    forward_typed<E, decltype(vec)::value>(static_cast<const E*>(proj), reset, s, static_cast<E*>(y), saved,
                                           scratch, stream);
  });
}

void gated_scan_backward(DType dtype, const void* proj, const std::int32_t* reset,
                         bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                         const float* saved, const void* dy, void* dproj, float* scratch,
                         cudaStream_t stream) {
  const ScanKernel kernel = backward_kernel();
  if (kernel == ScanKernel::one_pass)
    return gated_scan_backward_one_pass(dtype, proj, reset, bidirectional, B, T, N, saved, dy, dproj, scratch,
                                        stream);
  if (is_split_scan_kernel(kernel))
    return gated_scan_backward_split(kernel, dtype, proj, reset, bidirectional, B, T, N, saved, dy, dproj, scratch,
                                     stream);
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, dy, dproj}, "gated_scan_backward", [&](auto zero, auto vec) {
    using E = decltype(zero);
    backward_typed<E, decltype(vec)::value>(static_cast<const E*>(proj), reset, s, saved,
                                            static_cast<const E*>(dy), static_cast<E*>(dproj), scratch, stream);
  });
}

}  // namespace birdie::kernels::cuda
