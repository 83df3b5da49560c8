// The one-pass CUDA gated scan with each tile's steps split across the warps of its block
// (kernels/cuda/scan.h says when it runs; kernels/scan.h gives the semantics;
// scan_look_back.cuh, the tile and the look-back it shares with scan_one_pass.cu).
//
// Why. The warp-a-tile kernel keeps its whole 16-step tile in shared memory and walks it
// serially: ncu on an H200 found 4-6 warps a SM, each issuing once every ~3 cycles, too
// few to hide either memory or arithmetic latency. Here WARPS warps share one tile, warp w
// taking steps [w·S, (w+1)·S): the same bytes on chip per tile, WARPS times the warps,
// each with a serial chain S steps long.
//
// Two families of tiles. split4/split8: one chunk of 16 steps (S = 16 / WARPS) and 16-byte
// vectors, 256 bf16 channels a tile. tile32/tile64: 2 or 4 chunks (S = 8 or 16, 4 warps)
// and 8- or 4-byte vectors, 128 or 64 bf16 channels a tile: the same bytes on chip and
// registers a thread, but 2 or 4 times fewer tiles along a row. Why that matters: the
// split4 kernel took 1.6-1.9 µs per chunk of the row on an H200 at every shape measured
// (207 µs for 128 chunks at 4 x 2048 x 2560, 238 µs at 8 x 2048 x 2560 with twice the
// bytes, 412 µs for 256 chunks at 16 x 4096 x 768): its time followed the length of the
// chain of look-backs along a row, not the bytes (bench/RESULTS.md).
//
//   forward:  each warp loads its steps (cp.async) and runs them from state 0, keeping in
//             registers the local states H_j and the products P_j of the forget gates, so
//             that the true state is h_j = P_j·h_in + H_j; its aggregate (P, H) of its last
//             step goes to shared memory. Barrier. Warp 0 composes the warps' aggregates in
//             order into the tile's, takes the tile's entering state by look-back,
//             publishes, and shares it. Barrier. Each warp carries that state through the
//             aggregates of the warps before it into its own h_in (saved, when the warp
//             starts a chunk) and writes y_j = GeLU(o_j)·(P_j·h_in + H_j): the gates are
//             computed once per element.
//   backward: the same local states, each warp's h_in from the saved state entering its
//             chunk carried through the warps before it in that chunk, and the local
//             adjoint aggregates (carry ← f·(carry + dy·GeLU(o)), right to left); the last
//             warp composes the adjoint aggregates from the last warp to the first and looks
//             back at the tiles after it; each warp then walks its steps back, writing dproj.
//
// Both passes compose aggregates in a fixed order with fmaf, so the results do not depend on
// timing; the backward rebuilds exactly the forward's states (same inputs, same order). The
// rounding differs from the sequential walk of the warp-a-tile kernel by a few ulps.
#include <string>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan.h"
#include "kernels/cuda/scan_common.cuh"
#include "kernels/cuda/scan_look_back.cuh"
#include "kernels/cuda/scan_split_tile.cuh"

namespace birdie::kernels::cuda {

namespace {

// Where projection plane q of a token row starts in the fused proj [B, T, 4N].
template <class T>
struct FusedPlanes {
  const T* proj;
  std::int64_t N;
  __device__ __forceinline__ const T* operator()(int q, std::int64_t row) const { return proj + (row * 4 + q) * N; }
};

// The gated scan's step for the split tiles: decay f (0 where blocked), drive σ(i)·z.
template <class T, int VEC, class Steps>
__device__ __forceinline__ auto gated_step(const Steps& steps) {
  return [&steps](int u, float (&decay)[VEC], float (&drive)[VEC]) {
    const bool blk = steps.blocked_at(u);
    float iv[VEC], fv[VEC], zv[VEC];
    steps.load(u, 0, iv);
    steps.load(u, 1, fv);
    steps.load(u, 2, zv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      decay[k] = blk ? 0.0f : gate<T>(fv[k]);
      drive[k] = gate<T>(iv[k]) * zv[k];
    }
  };
}

template <class T, int VEC, int WARPS, int S>
__global__ void __launch_bounds__(WARPS * lanes)
scan_forward_split(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                   T* __restrict__ y, float* __restrict__ saved, Status st) {
  constexpr int G = WARPS * S / L;
  extern __shared__ float shared[];
  const SplitLayout<T, VEC, WARPS, WARPS * S> layout{shared};
  const int lane = threadIdx.x % lanes, warp = threadIdx.x / lanes;
  const Tile tile = tile_of<VEC, G>(s, false, lane);
  const bool active = tile.c0 >= 0;  // every thread reaches the barriers
  const WarpSteps<T, VEC, S, 4, 4> steps{layout.raw(2), s, tile, reset + tile.b * s.T, warp * S, lane};
  float P[S][VEC], H[S][VEC], a[VEC], b[VEC];
  if (active) {
    steps.stage(FusedPlanes<T>{proj, s.N}, nullptr);
    steps.local_states(P, H, a, b, gated_step<T, VEC>(steps));
    layout.put(0, warp, lane, a);
    layout.put(1, warp, lane, b);
  }
  layout.look_back_tile(tile, -s.N, tile.index, st, 0, 1, 2, warp, lane, active, a, b);
  if (!active || steps.count() == 0) return;

  float h_in[VEC];  // the tile's entering state carried through the warps before this one
#pragma unroll
  for (int k = 0; k < VEC; ++k) h_in[k] = layout.found(2, k, lane);
  layout.carry(0, 1, 0, warp, lane, h_in);
  steps.save(saved, h_in);
#pragma unroll
  for (int u = 0; u < S; ++u) {
    if (u >= steps.count()) break;
    float ov[VEC], out[VEC];
    steps.load(u, 3, ov);
#pragma unroll
    for (int k = 0; k < VEC; ++k) out[k] = gelu(ov[k]) * fmaf(P[u][k], h_in[k], H[u][k]);
    store_vec<T, VEC>(y + steps.row(u) * s.N + tile.c0, out);
  }
}

template <class T, int VEC, int WARPS, int S>
__global__ void __launch_bounds__(WARPS * lanes)
scan_backward_split(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                    const float* __restrict__ saved, const T* __restrict__ dy, T* __restrict__ dproj, Status st) {
  constexpr int G = WARPS * S / L;
  extern __shared__ float shared[];
  const SplitLayout<T, VEC, WARPS, WARPS * S> layout{shared};  // aggregate planes: forward A, B; adjoint A, B
  const int lane = threadIdx.x % lanes, warp = threadIdx.x / lanes;
  const Tile tile = tile_of<VEC, G>(s, true, lane);
  const bool active = tile.c0 >= 0;
  const WarpSteps<T, VEC, S, 4, 5> steps{layout.raw(4), s, tile, reset + tile.b * s.T, warp * S, lane};

  // Local states from 0 (h_j = P_j·h_in + H_j, as the forward has them) and the local
  // adjoint aggregate, right to left: carry_out = ca·carry_in + cb.
  float P[S][VEC], H[S][VEC], a[VEC], b[VEC], ca[VEC], cb[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) ca[k] = 1.0f, cb[k] = 0.0f;
  if (active) {
    steps.stage(FusedPlanes<T>{proj, s.N}, dy);
    steps.local_states(P, H, a, b, gated_step<T, VEC>(steps));
#pragma unroll
    for (int u = S - 1; u >= 0; --u) {
      if (u >= steps.count()) continue;
      const bool blk = steps.blocked_at(u);
      float fv[VEC], ov[VEC], gv[VEC];
      steps.load(u, 1, fv);
      steps.load(u, 3, ov);
      steps.load(u, 4, gv);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        ca[k] *= adjoint_step<T>(fv[k], ov[k], gv[k], blk, cb[k]);
      }
    }
    layout.put(0, warp, lane, a);
    layout.put(1, warp, lane, b);
    layout.put(2, warp, lane, ca);
    layout.put(3, warp, lane, cb);
  }
  // The last warp holds the tile's first adjoint aggregate.
  layout.template look_back_tile<true>(tile, s.N, tile.tiles - 1 - tile.index, st, 2, 3, 4, warp, lane, active, ca,
                                       cb);
  if (!active || steps.count() == 0) return;

  // h_in: the saved state entering this warp's chunk, carried through the warps before it
  // in that chunk (as the forward composed it).
  float h_in[VEC], carry[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) h_in[k] = saved[steps.saved_at() + k], carry[k] = layout.found(4, k, lane);
  layout.carry(0, 1, warp - (warp * S % L) / S, warp, lane, h_in);
  layout.template carry<true>(2, 3, warp + 1, WARPS, lane, carry);

#pragma unroll
  for (int u = S - 1; u >= 0; --u) {
    if (u >= steps.count()) continue;
    float iv[VEC], fv[VEC], zv[VEC], ov[VEC], gv[VEC], h[VEC], h_prev[VEC];
    steps.load(u, 0, iv);
    steps.load(u, 1, fv);
    steps.load(u, 2, zv);
    steps.load(u, 3, ov);
    steps.load(u, 4, gv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      h[k] = fmaf(P[u][k], h_in[k], H[u][k]);
      h_prev[k] = u > 0 ? fmaf(P[u - 1][k], h_in[k], H[u - 1][k]) : h_in[k];
    }
    backward_step<T, VEC>(iv, fv, zv, ov, gv, h_prev, h, steps.blocked_at(u), carry,
                          dproj + steps.row(u) * 4 * s.N + tile.c0, s.N);
  }
}

template <class T, int VEC, int WARPS, int S>
void forward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, T* y, float* saved,
                   float* scratch, cudaStream_t stream) {
  constexpr int G = WARPS * S / L;
  const Status st = prepare_status<VEC, G>(s, scratch, stream);
  const std::size_t bytes = SplitLayout<T, VEC, WARPS, WARPS * S>::bytes(2, 4);
  allow_shared(scan_forward_split<T, VEC, WARPS, S>, bytes);
  scan_forward_split<T, VEC, WARPS, S><<<tile_blocks<VEC, G>(s), WARPS * lanes, bytes, stream>>>(
      proj, reset, s, y, saved, st);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

template <class T, int VEC, int WARPS, int S>
void backward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, const float* saved,
                    const T* dy, T* dproj, float* scratch, cudaStream_t stream) {
  constexpr int G = WARPS * S / L;
  const Status st = prepare_status<VEC, G>(s, scratch, stream);
  const std::size_t bytes = SplitLayout<T, VEC, WARPS, WARPS * S>::bytes(4, 5);
  allow_shared(scan_backward_split<T, VEC, WARPS, S>, bytes);
  scan_backward_split<T, VEC, WARPS, S><<<tile_blocks<VEC, G>(s), WARPS * lanes, bytes, stream>>>(
      proj, reset, s, saved, dy, dproj, st);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

// A split kernel's shape: WARPS warps a tile, S steps a warp (a tile of WARPS·S steps:
// one chunk, or several whole ones), vectors of at most BYTES bytes.
template <int WARPS, int S, int BYTES>
struct Split {
  static_assert(L % S == 0 && WARPS * S % L == 0, "a warp's steps lie in one chunk; a tile is whole chunks");
  static constexpr int warps = WARPS, steps = S, bytes = BYTES;
};

// Calls fn(Split<...>{}) for the kernel's shape.
template <class Fn>
void with_split(ScanKernel kernel, Fn&& fn) {
  switch (kernel) {
    case ScanKernel::one_pass_split4: return fn(Split<4, 4, 16>{});
    case ScanKernel::one_pass_split8: return fn(Split<8, 2, 16>{});
    case ScanKernel::one_pass_tile32: return fn(Split<4, 8, 8>{});
    case ScanKernel::one_pass_tile64: return fn(Split<4, 16, 4>{});
    default: break;
  }
  throw Error(std::string("gated scan (split): ") + scan_kernel_name(kernel) + " is not a split kernel");
}

}  // namespace

bool is_split_scan_kernel(ScanKernel kernel) {
  return kernel == ScanKernel::one_pass_split4 || kernel == ScanKernel::one_pass_split8 ||
         kernel == ScanKernel::one_pass_tile32 || kernel == ScanKernel::one_pass_tile64;
}

void gated_scan_forward_split(ScanKernel kernel, DType dtype, const void* proj, const std::int32_t* reset,
                              bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N, void* y,
                              float* saved, float* scratch, cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  with_split(kernel, [&](auto split) {
    using K = decltype(split);
    dispatch_scan<K::bytes>(dtype, s, {proj, y}, "gated_scan_forward, split", [&](auto zero, auto vec) {
      using E = decltype(zero);
      forward_typed<E, decltype(vec)::value, K::warps, K::steps>(static_cast<const E*>(proj), reset, s,
                                                                 static_cast<E*>(y), saved, scratch, stream);
    });
  });
}

void gated_scan_backward_split(ScanKernel kernel, DType dtype, const void* proj, const std::int32_t* reset,
                               bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                               const float* saved, const void* dy, void* dproj, float* scratch,
                               cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  with_split(kernel, [&](auto split) {
    using K = decltype(split);
    dispatch_scan<K::bytes>(dtype, s, {proj, dy, dproj}, "gated_scan_backward, split", [&](auto zero, auto vec) {
      using E = decltype(zero);
      backward_typed<E, decltype(vec)::value, K::warps, K::steps>(static_cast<const E*>(proj), reset, s, saved,
                                                                  static_cast<const E*>(dy), static_cast<E*>(dproj),
                                                                  scratch, stream);
    });
  });
}

}  // namespace birdie::kernels::cuda
