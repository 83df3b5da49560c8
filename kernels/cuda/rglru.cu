// CUDA RG-LRU scan, forward and backward, in three passes (kernels/cuda/rglru.h for the
// algorithm and the choice of kernel, kernels/rglru.h for the semantics,
// kernels/cpu/rglru.cpp for the reference). One thread owns VEC adjacent channels of one
// (batch row, chunk), VEC·sizeof(T) = 16 bytes when the channel count allows aligned
// vectors, else 1; a vector never straddles the causal and reverse halves (scan_common.cuh's
// use_vectors). grid = (channel groups / 64, min(B·chunks, 65535)), blockIdx.y striding over
// the (batch row, chunk) pairs.
//
// The structure of the gated scan's three_pass kernel (reduce → carries → rescan), with the
// shared pieces (ScanShape, time_at, dispatch_scan, the grid, the carries pass, vector
// loads) taken from scan_common.cuh and device_math.cuh, and the RG-LRU's own from
// rglru_common.cuh: three inputs a token (four with Hawk's output gate, whose GeLU(o)·h the
// rescans write), a per-channel parameter to load, and a parameter gradient to reduce over
// B and T. The default, as the kernel measured on an
// H200; rglru_one_pass.cu holds the one-pass kernels on the gated scan's long tiles.
//
// Gates are recomputed in every pass that needs them rather than stored, as in the gated
// scan: storing them would add a write and a read of gate size to a memory-bound kernel.
#include <algorithm>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/kernel_choice.h"
#include "kernels/cuda/rglru.h"
#include "kernels/cuda/rglru_common.cuh"
#include "kernels/cuda/scan_common.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int block_threads = 64;
constexpr int L = static_cast<int>(rglru_chunk_length);

// The token's x, σ(r) and σ(i) for the thread's channels.
template <class T, int VEC>
__device__ __forceinline__ void load_token(const RglruInputs<T>& in, const ScanShape& s, const ScanLane& lane,
                                           std::int64_t t, float (&x)[VEC], float (&r)[VEC], float (&i)[VEC]) {
  const std::int64_t row = lane.b * s.T + t;
  load_vec<T, VEC>(in(0, row) + lane.c0, x);
  load_vec<T, VEC>(in(1, row) + lane.c0, r);
  load_vec<T, VEC>(in(2, row) + lane.c0, i);
#pragma unroll
  for (int k = 0; k < VEC; ++k) r[k] = sigmoid(r[k]), i[k] = sigmoid(i[k]);
}

// One forward step of the thread's channels at time t: h ← a·h + sqrt(1 − a²)·σ(i)·x,
// and a, the step's decay.
template <class T, int VEC>
__device__ __forceinline__ void forward_step(const RglruInputs<T>& in, const ScanShape& s, const ScanLane& lane,
                                             std::int64_t t, bool blk, const float (&sp)[VEC], float (&h)[VEC],
                                             float (&a)[VEC]) {
  float x[VEC], r[VEC], i[VEC];
  load_token<T, VEC>(in, s, lane, t, x, r, i);
#pragma unroll
  for (int k = 0; k < VEC; ++k) {
    const Decay d(blk, r[k], sp[k]);
    h[k] = d.a * h[k] + d.scale * i[k] * x[k];
    a[k] = d.a;
  }
}

// body(lane, reset_row, sp, sn) for each (batch row, chunk) lane of the thread's channels
// (scan_common.cuh's for_each_chunk_lane), with sp, sn the lambda_terms of those channels.
template <int VEC, class Body>
__device__ __forceinline__ void for_each_lane(const float* lambda, const std::int32_t* reset, const ScanShape& s,
                                              Body&& body) {
  const std::int64_t c0 = first_channel<VEC>(s);
  if (c0 < 0) return;
  float sp[VEC], sn[VEC];
  lambda_terms<VEC>(lambda, c0, sp, sn);
  for_each_chunk_lane(s, c0, L, reset,
                      [&](const ScanLane& lane, const std::int32_t* reset_row) { body(lane, reset_row, sp, sn); });
}

// Phase 1 forward: h_end = A·h_start + B over the chunk.
template <class T, int VEC>
__global__ void __launch_bounds__(block_threads)
rglru_forward_reduce(const T* __restrict__ x, const T* __restrict__ gates, const float* __restrict__ lambda,
                     const std::int32_t* __restrict__ reset, ScanShape s, float* __restrict__ chunk_a,
                     float* __restrict__ chunk_b) {
  const RglruInputs<T> in{x, gates, nullptr, s.N};
  for_each_lane<VEC>(lambda, reset, s, [&](const ScanLane& lane, const std::int32_t* reset_row,
                                            const float (&sp)[VEC], const float (&)[VEC]) {
    float a_acc[VEC], b_acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) a_acc[k] = 1.0f, b_acc[k] = 0.0f;
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      float a[VEC];
      forward_step<T, VEC>(in, s, lane, t, rglru_blocked(reset_row, s, lane.reverse, t), sp, b_acc, a);
#pragma unroll
      for (int k = 0; k < VEC; ++k) a_acc[k] *= a[k];
    }
    store_chunk<VEC>(s, lane, a_acc, b_acc, chunk_a, chunk_b);
  });
}

// Phase 3 forward: rescan each chunk from its entering state, write y = h (GATED: GeLU(o)·h).
template <class T, int VEC, bool GATED>
__global__ void __launch_bounds__(block_threads)
rglru_forward_rescan(const T* __restrict__ x, const T* __restrict__ gates, const T* __restrict__ out_gate,
                     const float* __restrict__ lambda, const std::int32_t* __restrict__ reset, ScanShape s,
                     const float* __restrict__ entering, T* __restrict__ y) {
  const RglruInputs<T> in{x, gates, out_gate, s.N};
  for_each_lane<VEC>(lambda, reset, s, [&](const ScanLane& lane, const std::int32_t* reset_row,
                                            const float (&sp)[VEC], const float (&)[VEC]) {
    float h[VEC];
    load_chunk<VEC>(s, lane, entering, h);
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      float a[VEC];
      forward_step<T, VEC>(in, s, lane, t, rglru_blocked(reset_row, s, lane.reverse, t), sp, h, a);
      const std::int64_t row = lane.b * s.T + t;
      float out[VEC];
      if constexpr (GATED) load_vec<T, VEC>(in(3, row) + lane.c0, out);
#pragma unroll
      for (int k = 0; k < VEC; ++k) out[k] = GATED ? gelu(out[k]) * h[k] : h[k];
      store_vec<T, VEC>(y + row * s.N + lane.c0, out);
    }
  });
}

// Phase 1 backward: carry_out = A·carry_in + B for carry ← a·(carry + dh), walking the
// chunk against the scan order; dh = dy, or dy·GeLU(o) with the output gate (GATED).
template <class T, int VEC, bool GATED>
__global__ void __launch_bounds__(block_threads)
rglru_backward_reduce(const T* __restrict__ gates, const T* __restrict__ out_gate, const float* __restrict__ lambda,
                      const std::int32_t* __restrict__ reset, ScanShape s, const T* __restrict__ dy,
                      float* __restrict__ chunk_a, float* __restrict__ chunk_b) {
  for_each_lane<VEC>(lambda, reset, s, [&](const ScanLane& lane, const std::int32_t* reset_row,
                                            const float (&sp)[VEC], const float (&)[VEC]) {
    float a_acc[VEC], b_acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) a_acc[k] = 1.0f, b_acc[k] = 0.0f;
    for (std::int64_t step = lane.step1 - 1; step >= lane.step0; --step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const bool blk = rglru_blocked(reset_row, s, lane.reverse, t);
      const std::int64_t row = lane.b * s.T + t;
      float rv[VEC], gv[VEC];
      load_vec<T, VEC>(gates + 2 * row * s.N + lane.c0, rv);  // r
      load_vec<T, VEC>(dy + row * s.N + lane.c0, gv);
      if constexpr (GATED) {
        float ov[VEC];
        load_vec<T, VEC>(out_gate + row * s.N + lane.c0, ov);
#pragma unroll
        for (int k = 0; k < VEC; ++k) gv[k] *= gelu(ov[k]);
      }
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const Decay d(blk, sigmoid(rv[k]), sp[k]);
        b_acc[k] = d.a * (b_acc[k] + gv[k]);
        a_acc[k] *= d.a;
      }
    }
    store_chunk<VEC>(s, lane, a_acc, b_acc, chunk_a, chunk_b);
  });
}

// Phase 3 backward: rebuild the chunk's states from the saved entering state (in shared
// memory, channel k of a thread at column k·64 + threadIdx.x so a warp's accesses are
// conflict-free; only the thread itself touches its slots, so no barrier), then walk the
// chunk back writing dx and dgates (GATED: and do), and leave the lane's dlambda share for
// the chunk in lambda_part [B, chunks, C].
template <class T, int VEC, bool GATED>
__global__ void __launch_bounds__(block_threads)
rglru_backward_rescan(const T* __restrict__ x, const T* __restrict__ gates, const T* __restrict__ out_gate,
                      const float* __restrict__ lambda, const std::int32_t* __restrict__ reset, ScanShape s,
                      const float* __restrict__ saved, const float* __restrict__ carry_in, const T* __restrict__ dy,
                      T* __restrict__ dx, T* __restrict__ dgates, T* __restrict__ dout_gate,
                      float* __restrict__ lambda_part) {
  __shared__ float states[L][VEC * block_threads];
  const RglruInputs<T> in{x, gates, out_gate, s.N};
  const RglruGrads<T> out{dx, dgates, dout_gate, s.N};
  const int slot = threadIdx.x;
  for_each_lane<VEC>(lambda, reset, s, [&](const ScanLane& lane, const std::int32_t* reset_row,
                                            const float (&sp)[VEC], const float (&sn)[VEC]) {
    const std::int64_t at = chunk_index(s, lane);
    float h_start[VEC], h[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) h_start[k] = h[k] = saved[at + k];
    for (std::int64_t step = lane.step0; step < lane.step1; ++step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      float a[VEC];
      forward_step<T, VEC>(in, s, lane, t, rglru_blocked(reset_row, s, lane.reverse, t), sp, h, a);
#pragma unroll
      for (int k = 0; k < VEC; ++k) states[step - lane.step0][slot + k * block_threads] = h[k];
    }
    float carry[VEC], dlambda[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) carry[k] = carry_in[at + k], dlambda[k] = 0.0f;
    for (std::int64_t step = lane.step1 - 1; step >= lane.step0; --step) {
      const std::int64_t t = time_at(s, lane.reverse, step);
      const std::int64_t row = lane.b * s.T + t;
      const bool blk = rglru_blocked(reset_row, s, lane.reverse, t);
      const int local = static_cast<int>(step - lane.step0);
      float xv[VEC], r[VEC], i[VEC], gv[VEC], ov[VEC];
      load_token<T, VEC>(in, s, lane, t, xv, r, i);
      load_vec<T, VEC>(dy + row * s.N + lane.c0, gv);
      if constexpr (GATED) load_vec<T, VEC>(in(3, row) + lane.c0, ov);
      float dxv[VEC], dr[VEC], di[VEC], dov[VEC];
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float h_in = local > 0 ? states[local - 1][slot + k * block_threads] : h_start[k];
        const Decay d(blk, r[k], sp[k]);
        float dh = gv[k];
        if constexpr (GATED) {  // y = GeLU(o)·h_t: do = dy·GeLU′(o)·h_t, dh = dy·GeLU(o)
          const OutputGate o(ov[k]);
          dov[k] = gv[k] * o.derivative * states[local][slot + k * block_threads];
          dh *= o.factor;
        }
        const float g = dh + carry[k];
        dxv[k] = g * d.scale * i[k];
        di[k] = g * d.scale * xv[k] * i[k] * (1.0f - i[k]);
        // Blocked: a = 0 is a constant, so neither r nor Λ gets a gradient there.
        const float dlog_a = blk ? 0.0f : g * (d.a * h_in + d.dscale_dlog_a() * i[k] * xv[k]);
        dr[k] = dlog_a * (-rglru_c * sp[k]) * r[k] * (1.0f - r[k]);
        dlambda[k] += dlog_a * rglru_c * r[k] * sn[k];
        carry[k] = d.a * g;
      }
      out.store(row, lane.c0, dxv, dr, di);
      if constexpr (GATED) out.store_out_gate(row, lane.c0, dov);
    }
#pragma unroll
    for (int k = 0; k < VEC; ++k) lambda_part[at + k] = dlambda[k];
  });
}

__global__ void rglru_lambda_sum(const float* __restrict__ lambda_part, std::int64_t rows, std::int64_t N,
                                 float* __restrict__ dlambda) {
  const std::int64_t c = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= N) return;
  float sum = 0.0f;
  for (std::int64_t r = 0; r < rows; ++r) sum += lambda_part[r * N + c];
  dlambda[c] += sum;
}

dim3 rglru_grid(const ScanShape& s, int vec) { return chunked_scan_grid(s, vec, block_threads, "RG-LRU scan"); }

KernelChoice<RglruKernel> rglru_choice("BIRDIE_RGLRU_KERNEL", rglru_kernels, rglru_kernel_name,
                                       RglruKernel::three_pass);

}  // namespace

RglruKernel rglru_kernel() { return rglru_choice.get(); }
void set_rglru_kernel(RglruKernel kernel) { rglru_choice.set(kernel); }
void clear_rglru_kernel_choice() { rglru_choice.clear(); }
const char* rglru_kernel_name(RglruKernel kernel) {
  switch (kernel) {
    case RglruKernel::three_pass: return "three_pass";
    case RglruKernel::one_pass: return "one_pass";
  }
  return "?";
}

void launch_rglru_lambda_sum(const float* lambda_part, std::int64_t rows, std::int64_t N, float* dlambda,
                             cudaStream_t stream) {
  constexpr int threads = 256;
  rglru_lambda_sum<<<static_cast<unsigned>((N + threads - 1) / threads), threads, 0, stream>>>(lambda_part, rows, N,
                                                                                             dlambda);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

void rglru_scan_forward(DType dtype, const void* x, const void* gates, const void* out_gate, const float* lambda,
                        const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T,
                        std::int64_t C, void* y, float* saved, float* scratch, cudaStream_t stream) {
  if (rglru_kernel() == RglruKernel::one_pass)
    return rglru_scan_forward_one_pass(dtype, x, gates, out_gate, lambda, reset, bidirectional, B, T, C, y, saved,
                                       scratch, stream);
  if (B == 0 || T == 0 || C == 0) return;
  const ScanShape s{B, T, C, rglru_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {x, gates, out_gate, y}, "rglru_scan_forward", [&](auto zero, auto vec) {
    using E = decltype(zero);
    constexpr int VEC = decltype(vec)::value;
    const dim3 grid = rglru_grid(s, VEC);
    float* chunk_a = scratch;
    float* chunk_b = scratch + s.B * s.C * s.N;
    const E* px = static_cast<const E*>(x);
    const E* pg = static_cast<const E*>(gates);
    const E* po = static_cast<const E*>(out_gate);
    rglru_forward_reduce<E, VEC><<<grid, block_threads, 0, stream>>>(px, pg, lambda, reset, s, chunk_a, chunk_b);
    BIRDIE_CUDA_CHECK(cudaGetLastError());
    launch_chunk_carries(chunk_a, chunk_b, s, false, saved, stream);
    with_output_gate(po != nullptr, [&](auto gated) {
      rglru_forward_rescan<E, VEC, gated.value><<<grid, block_threads, 0, stream>>>(px, pg, po, lambda, reset, s,
                                                                                   saved, static_cast<E*>(y));
    });
    BIRDIE_CUDA_CHECK(cudaGetLastError());
  });
}

void rglru_scan_backward(DType dtype, const void* x, const void* gates, const void* out_gate, const float* lambda,
                         const std::int32_t* reset, bool bidirectional, std::int64_t B, std::int64_t T,
                         std::int64_t C, const float* saved, const void* dy, void* dx, void* dgates, void* dout_gate,
                         float* dlambda, float* scratch, cudaStream_t stream) {
  if (rglru_kernel() == RglruKernel::one_pass)
    return rglru_scan_backward_one_pass(dtype, x, gates, out_gate, lambda, reset, bidirectional, B, T, C, saved, dy,
                                        dx, dgates, dout_gate, dlambda, scratch, stream);
  if (B == 0 || T == 0 || C == 0) return;
  const ScanShape s{B, T, C, rglru_chunk_count(T), bidirectional};
  const std::int64_t plane = s.B * s.C * s.N;
  float* chunk_a = scratch;
  float* chunk_b = scratch + plane;
  float* carry_in = scratch + 2 * plane;
  float* lambda_part = scratch + 3 * plane;
  dispatch_scan(dtype, s, {x, gates, out_gate, dy, dx, dgates, dout_gate}, "rglru_scan_backward",
                [&](auto zero, auto vec) {
    using E = decltype(zero);
    constexpr int VEC = decltype(vec)::value;
    const dim3 grid = rglru_grid(s, VEC);
    const E* px = static_cast<const E*>(x);
    const E* pg = static_cast<const E*>(gates);
    const E* po = static_cast<const E*>(out_gate);
    const E* g = static_cast<const E*>(dy);
    with_output_gate(po != nullptr, [&](auto gated) {
      constexpr bool GATED = gated.value;
      rglru_backward_reduce<E, VEC, GATED><<<grid, block_threads, 0, stream>>>(pg, po, lambda, reset, s, g, chunk_a,
                                                                              chunk_b);
      BIRDIE_CUDA_CHECK(cudaGetLastError());
      launch_chunk_carries(chunk_a, chunk_b, s, true, carry_in, stream);
      rglru_backward_rescan<E, VEC, GATED><<<grid, block_threads, 0, stream>>>(
          px, pg, po, lambda, reset, s, saved, carry_in, g, static_cast<E*>(dx), static_cast<E*>(dgates),
          static_cast<E*>(dout_gate), lambda_part);
      BIRDIE_CUDA_CHECK(cudaGetLastError());
    });
  });
  launch_rglru_lambda_sum(lambda_part, s.B * s.C, s.N, dlambda, stream);
}

}  // namespace birdie::kernels::cuda
