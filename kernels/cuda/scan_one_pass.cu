// The one-pass CUDA gated scan (kernels/cuda/scan.h says when it runs; kernels/scan.h
// gives the semantics). Each block is one warp and one tile: VEC adjacent channels per
// thread, one chunk of scan_chunk_length steps, one batch row. Every phase below walks the
// tile's projections (and dy); where it finds them is the staging (TileStaging):
//
//   shared_memory:  the tile goes from global to shared memory once, as asynchronous
//                   16-byte copies all in flight together, and every phase reads it there.
//                   1 KiB a thread forward (1.8 KiB with the states backward): ncu on an
//                   H200 found 4-6 warps a SM, too few to hide latency.
//   reread_from_l2: each phase loads from global memory; the first touch of a plane comes
//                   from DRAM, a later phase's from L2, where it still is a few
//                   microseconds later. Forward: no shared memory; backward: only the
//                   states (VEC floats a step), so that several times more warps fit.
//
//   forward:  reduce the chunk to h_end = A·h_start + B; take h_start from the chunks
//             before it (decoupled look-back); publish h_end; rescan, writing y.
//   backward: rebuild the chunk's states from `saved`; reduce the adjoint recurrence
//             carry ← f·(carry + dy·GeLU(o)) right to left; look back at the chunks after
//             it; walk the chunk back, writing dproj.
//
// Look-back. Each thread publishes, per chunk, its aggregate (A, B) and then its inclusive
// state, each behind a flag (global memory, fenced). A thread reads its predecessors'
// flags nearest first until it meets an inclusive state (or the sequence's start), then
// applies the aggregates in between in chunk order with the same fmaf as the chain
// h_k = A_k·h_{k-1} + B_k: the state it obtains has the same bits whichever flags it
// found set, so results do not depend on timing (the three-pass kernel's carries are
// composed the same way). Blocks are numbered chunk-major in scan order (from the end for the
// backward), so a block waits only on blocks dispatched before it: the in-order dispatch
// that CUB's decoupled look-back relies on too.
//
// Gates: σ of bf16 logits takes the fast intrinsics (__expf, __fdividef: about 1e-6
// relative, far below the 2^-8 rounding the bf16 inputs already carry) because the scan
// is otherwise bound by instruction issue (ncu, H200: the three-pass kernel's passes at
// 65-75% of the SM's issue rate, under 55% of DRAM bandwidth); f32 keeps the accurate form
// of device_math.cuh, since the fp32 bound (1e-5) holds over chains of hundreds of gates.
//
// Bytes: forward reads the 4N projections and the reset once from DRAM and writes y (plus
// a few floats per chunk and channel); backward reads projections, dy and the reset once
// and writes dproj. Gates are computed in each phase that needs them, since keeping them
// on chip would cost the occupancy that hides the latency.
#include <cuda_pipeline_primitives.h>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan.h"
#include "kernels/cuda/scan_common.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = 32;
constexpr int L = static_cast<int>(scan_chunk_length);
constexpr int ready_aggregate = 1, ready_inclusive = 2;

// This thread's part of the block's tile.
struct Tile {
  std::int64_t b, chunk;
  std::int64_t c0;  // first channel; -1 when the block overhangs N
  bool reverse;     // the reverse half of a bidirectional scan
  int steps;        // steps in the chunk (the last one may be short)
  std::int64_t at;  // (b·C + chunk)·N + c0: this lane's slot in saved and the status planes
};

template <int VEC>
__device__ __forceinline__ Tile tile_of(const ScanShape& s, bool descending) {
  const std::int64_t groups = s.N / VEC;
  const std::int64_t per_row = (groups + threads - 1) / threads;
  const std::int64_t id = blockIdx.x, per_chunk = s.B * per_row;
  const std::int64_t order = id / per_chunk, rest = id % per_chunk;
  Tile t;
  t.chunk = descending ? s.C - 1 - order : order;
  t.b = rest / per_row;
  const std::int64_t group = (rest % per_row) * threads + threadIdx.x;
  t.c0 = group < groups ? group * VEC : -1;
  t.reverse = s.bidirectional && t.c0 >= s.N / 2;
  t.steps = static_cast<int>(min(s.T - t.chunk * L, static_cast<std::int64_t>(L)));
  t.at = (t.b * s.C + t.chunk) * s.N + t.c0;
  return t;
}

template <class T>
__device__ __forceinline__ float gate(float x) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return sigmoid(x);
  } else {
    return __fdividef(1.0f, 1.0f + __expf(-x));
  }
}

__device__ __forceinline__ std::int64_t time_of(const ScanShape& s, const Tile& tile, int j) {
  return time_at(s, tile.reverse, tile.chunk * L + j);
}

// Global → shared without a register round trip (cp.async) where the vector allows it
// (4, 8 or 16 bytes); a plain copy for a single bf16.
template <class V>
__device__ __forceinline__ void copy_to_shared(V* dst, const V* src) {
  if constexpr (sizeof(V) >= 4) {
    __pipeline_memcpy_async(dst, src, sizeof(V));
  } else {
    *dst = *src;
  }
}

// Where a phase finds plane q (i f z o, then dy for the backward: P planes) of step j of
// this thread's tile.
template <class T, int VEC, TileStaging S, int P>
struct TileView {
  using V = Packed<T, VEC>;
  const T* proj;
  const T* dy;
  V* raw;  // shared_memory: [L][P][threads]
  const ScanShape& s;
  const Tile& tile;

  __device__ __forceinline__ std::int64_t row(int j) const { return tile.b * s.T + time_of(s, tile, j); }
  __device__ __forceinline__ const T* global(int j, int q) const {
    return q < 4 ? proj + row(j) * 4 * s.N + q * s.N + tile.c0 : dy + row(j) * s.N + tile.c0;
  }
  // shared_memory: the whole tile's copies in flight, then this thread's wait (each thread
  // reads only its own slots: no barrier).
  __device__ __forceinline__ void stage() const {
    if constexpr (S == TileStaging::shared_memory) {
      for (int j = 0; j < tile.steps; ++j)
#pragma unroll
        for (int q = 0; q < P; ++q)
          copy_to_shared(&raw[(j * P + q) * threads + threadIdx.x], reinterpret_cast<const V*>(global(j, q)));
      __pipeline_commit();
      __pipeline_wait_prior(0);
    }
  }
  __device__ __forceinline__ void load(int j, int q, float (&out)[VEC]) const {
    if constexpr (S == TileStaging::shared_memory) {
      load_vec<T, VEC>(raw[(j * P + q) * threads + threadIdx.x].v, out);
    } else {
      load_vec<T, VEC>(global(j, q), out);
    }
  }
};

__device__ __forceinline__ int read_flag(const int* flags, std::int64_t i) {
  return *reinterpret_cast<const volatile int*>(flags + i);
}

__device__ __forceinline__ void set_flag(int* flags, std::int64_t i, int value) {
  __threadfence();  // the values it announces are visible first
  *reinterpret_cast<volatile int*>(flags + i) = value;
}

// The state entering this lane's chunk from the `count` chunks before it in scan order
// (slots at + d·step for d = 1..count): the nearest inclusive state, or 0 at the
// sequence's start, carried through the aggregates in between in chunk order.
template <int VEC>
__device__ void look_back(std::int64_t at, std::int64_t step, std::int64_t count, const float* agg_a,
                          const float* agg_b, const float* inclusive, const int* flags,
                          float (&state)[VEC]) {
#pragma unroll
  for (int k = 0; k < VEC; ++k) state[k] = 0.0f;
  std::int64_t d = 1;
  for (; d <= count; ++d) {
    const std::int64_t other = at + d * step;
    int flag;
    while ((flag = read_flag(flags, other / VEC)) == 0) __nanosleep(32);
    if (flag == ready_inclusive) {
      __threadfence();
#pragma unroll
      for (int k = 0; k < VEC; ++k) state[k] = __ldcg(inclusive + other + k);
      break;
    }
  }
  __threadfence();
  for (--d; d >= 1; --d) {
    const std::int64_t other = at + d * step;
#pragma unroll
    for (int k = 0; k < VEC; ++k) state[k] = fmaf(__ldcg(agg_a + other + k), state[k], __ldcg(agg_b + other + k));
  }
}

// Publishes this lane's aggregate, obtains its entering state, publishes its inclusive
// state. step: -N (forward: the chunks before) or +N (backward: the chunks after).
template <int VEC>
__device__ __forceinline__ void chain(const Tile& tile, std::int64_t step, std::int64_t count,
                                      const float (&A)[VEC], const float (&B)[VEC], float* agg_a,
                                      float* agg_b, float* inclusive, int* flags, float (&entering)[VEC]) {
  if (count > 0) {
#pragma unroll
    for (int k = 0; k < VEC; ++k) agg_a[tile.at + k] = A[k], agg_b[tile.at + k] = B[k];
    set_flag(flags, tile.at / VEC, ready_aggregate);
    look_back<VEC>(tile.at, step, count, agg_a, agg_b, inclusive, flags, entering);
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) entering[k] = 0.0f;
  }
#pragma unroll
  for (int k = 0; k < VEC; ++k) inclusive[tile.at + k] = fmaf(A[k], entering[k], B[k]);
  set_flag(flags, tile.at / VEC, ready_inclusive);
}

template <class T, int VEC, TileStaging S>
__global__ void __launch_bounds__(threads)
scan_forward_one_pass(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                      T* __restrict__ y, float* __restrict__ saved, float* agg_a, float* agg_b,
                      float* inclusive, int* flags) {
  extern __shared__ float shared[];
  const Tile tile = tile_of<VEC>(s, false);
  if (tile.c0 < 0) return;
  const TileView<T, VEC, S, 4> view{proj, nullptr, reinterpret_cast<Packed<T, VEC>*>(shared), s, tile};
  const std::int32_t* reset_row = reset + tile.b * s.T;
  view.stage();

  float A[VEC], B[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) A[k] = 1.0f, B[k] = 0.0f;
#pragma unroll 4
  for (int j = 0; j < tile.steps; ++j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC];
    view.load(j, 0, iv);
    view.load(j, 1, fv);
    view.load(j, 2, zv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float f = blk ? 0.0f : gate<T>(fv[k]);
      B[k] = fmaf(f, B[k], gate<T>(iv[k]) * zv[k]);
      A[k] *= f;
    }
  }

  float h[VEC];
  chain<VEC>(tile, -s.N, tile.chunk, A, B, agg_a, agg_b, inclusive, flags, h);
#pragma unroll
  for (int k = 0; k < VEC; ++k) saved[tile.at + k] = h[k];

#pragma unroll 4
  for (int j = 0; j < tile.steps; ++j) {
    const std::int64_t t = time_of(s, tile, j);
    const bool blk = blocked(reset_row, s, tile.reverse, t);
    float iv[VEC], fv[VEC], zv[VEC], ov[VEC], out[VEC];
    view.load(j, 0, iv);
    view.load(j, 1, fv);
    view.load(j, 2, zv);
    view.load(j, 3, ov);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float f = blk ? 0.0f : gate<T>(fv[k]);
      h[k] = fmaf(f, h[k], gate<T>(iv[k]) * zv[k]);
      out[k] = gelu(ov[k]) * h[k];
    }
    store_vec<T, VEC>(y + (tile.b * s.T + t) * s.N + tile.c0, out);
  }
}

template <class T, int VEC, TileStaging S>
__global__ void __launch_bounds__(threads)
scan_backward_one_pass(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                       const float* __restrict__ saved, const T* __restrict__ dy, T* __restrict__ dproj,
                       float* agg_a, float* agg_b, float* inclusive, int* flags) {
  using V = Packed<T, VEC>;
  extern __shared__ float shared[];
  const Tile tile = tile_of<VEC>(s, true);
  if (tile.c0 < 0) return;
  // [L][VEC][threads] states, then (shared_memory) the raw tile.
  float* states = shared;
  V* raw = reinterpret_cast<V*>(states + L * VEC * threads);
  const TileView<T, VEC, S, 5> view{proj, dy, raw, s, tile};
  const std::int32_t* reset_row = reset + tile.b * s.T;
  const int me = threadIdx.x;
  view.stage();

  // The chunk's states, rebuilt from the state entering it (as the forward computed them).
  float h_start[VEC], h[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) h_start[k] = h[k] = saved[tile.at + k];
#pragma unroll 4
  for (int j = 0; j < tile.steps; ++j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC];
    view.load(j, 0, iv);
    view.load(j, 1, fv);
    view.load(j, 2, zv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float f = blk ? 0.0f : gate<T>(fv[k]);
      h[k] = fmaf(f, h[k], gate<T>(iv[k]) * zv[k]);
      states[(j * VEC + k) * threads + me] = h[k];
    }
  }

  // The adjoint recurrence over the chunk, right to left: carry_out = A·carry_in + B.
  float A[VEC], B[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) A[k] = 1.0f, B[k] = 0.0f;
#pragma unroll 4
  for (int j = tile.steps - 1; j >= 0; --j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float fv[VEC], ov[VEC], gv[VEC];
    view.load(j, 1, fv);
    view.load(j, 3, ov);
    view.load(j, 4, gv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float f = blk ? 0.0f : gate<T>(fv[k]);
      B[k] = f * fmaf(gv[k], gelu(ov[k]), B[k]);
      A[k] *= f;
    }
  }

  float carry[VEC];
  chain<VEC>(tile, s.N, s.C - 1 - tile.chunk, A, B, agg_a, agg_b, inclusive, flags, carry);

#pragma unroll 2
  for (int j = tile.steps - 1; j >= 0; --j) {
    const std::int64_t row = view.row(j);
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC], ov[VEC], gv[VEC];
    view.load(j, 0, iv);
    view.load(j, 1, fv);
    view.load(j, 2, zv);
    view.load(j, 3, ov);
    view.load(j, 4, gv);
    float di[VEC], df[VEC], dz[VEC], dout[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const float hk = states[(j * VEC + k) * threads + me];
      const float h_in = j > 0 ? states[((j - 1) * VEC + k) * threads + me] : h_start[k];
      const float e = gelu_erf(ov[k]);  // one erff for GeLU(o) and GeLU'(o)
      const float dh = fmaf(gv[k], gelu_from_erf(ov[k], e), carry[k]);
      const float si = gate<T>(iv[k]);
      const float f = blk ? 0.0f : gate<T>(fv[k]);
      di[k] = dh * zv[k] * si * (1.0f - si);
      df[k] = blk ? 0.0f : dh * h_in * f * (1.0f - f);
      dz[k] = dh * si;
      dout[k] = gv[k] * hk * gelu_derivative_from_erf(ov[k], e);
      carry[k] = f * dh;
    }
    T* d = dproj + row * 4 * s.N + tile.c0;
    store_vec<T, VEC>(d, di);
    store_vec<T, VEC>(d + s.N, df);
    store_vec<T, VEC>(d + 2 * s.N, dz);
    store_vec<T, VEC>(d + 3 * s.N, dout);
  }
}

// The status planes in scratch: aggregates A and B, inclusive states (f32, one per chunk
// and channel), then one flag per chunk and thread lane (zeroed before each launch).
struct Status {
  float *agg_a, *agg_b, *inclusive;
  int* flags;
};

template <int VEC>
Status prepare_status(const ScanShape& s, float* scratch, cudaStream_t stream) {
  const std::int64_t plane = s.B * s.C * s.N;
  Status st{scratch, scratch + plane, scratch + 2 * plane, reinterpret_cast<int*>(scratch + 3 * plane)};
  BIRDIE_CUDA_CHECK(cudaMemsetAsync(st.flags, 0, sizeof(int) * static_cast<std::size_t>(plane / VEC), stream));
  return st;
}

template <int VEC>
unsigned tile_blocks(const ScanShape& s) {
  const std::int64_t per_row = (s.N / VEC + threads - 1) / threads;
  const std::int64_t blocks = s.C * s.B * per_row;
  BIRDIE_CHECK(blocks <= INT32_MAX, "gated scan (one pass): ", blocks, " tiles exceed the grid limit");
  return static_cast<unsigned>(blocks);
}

// Dynamic shared memory beyond 48 KiB needs the kernel's opt-in (per device, so each launch).
template <class K>
void allow_shared(K kernel, std::size_t bytes) {
  if (bytes > 48 * 1024)
    BIRDIE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

template <class T, int VEC, TileStaging S>
void forward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, T* y, float* saved,
                   float* scratch, cudaStream_t stream) {
  const Status st = prepare_status<VEC>(s, scratch, stream);
  const std::size_t bytes = S == TileStaging::shared_memory ? sizeof(Packed<T, VEC>) * L * 4 * threads : 0;
  allow_shared(scan_forward_one_pass<T, VEC, S>, bytes);
  scan_forward_one_pass<T, VEC, S><<<tile_blocks<VEC>(s), threads, bytes, stream>>>(
      proj, reset, s, y, saved, st.agg_a, st.agg_b, st.inclusive, st.flags);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

template <class T, int VEC, TileStaging S>
void backward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, const float* saved,
                    const T* dy, T* dproj, float* scratch, cudaStream_t stream) {
  const Status st = prepare_status<VEC>(s, scratch, stream);
  const std::size_t raw = S == TileStaging::shared_memory ? sizeof(Packed<T, VEC>) * 5 : 0;
  const std::size_t bytes = (raw + sizeof(float) * VEC) * L * threads;
  allow_shared(scan_backward_one_pass<T, VEC, S>, bytes);
  scan_backward_one_pass<T, VEC, S><<<tile_blocks<VEC>(s), threads, bytes, stream>>>(
      proj, reset, s, saved, dy, dproj, st.agg_a, st.agg_b, st.inclusive, st.flags);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

// Calls fn with staging as a compile-time constant.
template <class Fn>
void with_staging(TileStaging staging, Fn&& fn) {
  if (staging == TileStaging::shared_memory)
    fn(std::integral_constant<TileStaging, TileStaging::shared_memory>{});
  else
    fn(std::integral_constant<TileStaging, TileStaging::reread_from_l2>{});
}

}  // namespace

void gated_scan_forward_one_pass(TileStaging staging, DType dtype, const void* proj, const std::int32_t* reset,
                                 bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                 void* y, float* saved, float* scratch, cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, y}, "gated_scan_forward, one pass", [&](auto zero, auto vec) {
    using E = decltype(zero);
    with_staging(staging, [&](auto st) {
      forward_typed<E, decltype(vec)::value, decltype(st)::value>(static_cast<const E*>(proj), reset, s,
                                                                  static_cast<E*>(y), saved, scratch, stream);
    });
  });
}

void gated_scan_backward_one_pass(TileStaging staging, DType dtype, const void* proj, const std::int32_t* reset,
                                  bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                  const float* saved, const void* dy, void* dproj, float* scratch,
                                  cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, dy, dproj}, "gated_scan_backward, one pass", [&](auto zero, auto vec) {
    using E = decltype(zero);
    with_staging(staging, [&](auto st) {
      backward_typed<E, decltype(vec)::value, decltype(st)::value>(
          static_cast<const E*>(proj), reset, s, saved, static_cast<const E*>(dy), static_cast<E*>(dproj), scratch,
          stream);
    });
  });
}

}  // namespace birdie::kernels::cuda
