// What the split one-pass scans share (the gated scan's scan_one_pass_split.cu and the
// RG-LRU's rglru_one_pass.cu): a tile of scan_look_back.cuh whose steps are split across
// the WARPS warps of its block, warp w taking steps [w·S, (w+1)·S). Each warp runs its
// steps from state 0 with h ← a_u·h + b_u, keeping in registers the local states H_u and
// the products P_u of the decays (the true state is P_u·h_in + H_u); the warps' aggregates
// meet in shared memory, where they are composed in warp order with fmaf (deterministic).
#pragma once

#include <cuda_pipeline_primitives.h>

#include <cstdint>

#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan_common.cuh"
#include "kernels/cuda/scan_look_back.cuh"

namespace birdie::kernels::cuda {

namespace {

// Shared memory of a block: per warp and lane, VEC floats for each partial aggregate plane
// (forward: A, B; backward: the forward's A, B and the adjoint's A, B, ...); VEC floats a
// lane for the state the tile's look-back found; then the raw tile [STEPS][planes][lanes].
template <class T, int VEC, int WARPS, int STEPS>
struct SplitLayout {
  static constexpr int aggregate = WARPS * VEC * lanes;  // floats of one aggregate plane
  float* base;
  __device__ float& agg(int plane, int warp, int k, int lane) const {
    return base[plane * aggregate + (warp * VEC + k) * lanes + lane];
  }
  __device__ float& found(int planes, int k, int lane) const { return base[planes * aggregate + k * lanes + lane]; }
  __device__ Packed<T, VEC>* raw(int planes) const {
    return reinterpret_cast<Packed<T, VEC>*>(base + planes * aggregate + VEC * lanes);
  }
  static constexpr std::size_t bytes(int agg_planes, int raw_planes) {
    return sizeof(float) * (agg_planes * aggregate + VEC * lanes) + sizeof(Packed<T, VEC>) * STEPS * raw_planes * lanes;
  }
  // This warp's values for plane `plane`.
  __device__ void put(int plane, int warp, int lane, const float (&v)[VEC]) const {
#pragma unroll
    for (int k = 0; k < VEC; ++k) agg(plane, warp, k, lane) = v[k];
  }
  // Called by every thread, after each warp put its aggregate in planes pa, pb: a barrier;
  // the warp at the tile's start in scan order (the first one, or the last one `backward`)
  // composes the warps' aggregates with its own (a, b) into the tile's, takes the state
  // entering the tile by look-back along the row (the `count` tiles `step` apart) and
  // leaves it in found(fp); a barrier.
  template <bool backward = false>
  __device__ void look_back_tile(const Tile& tile, std::int64_t step, std::int64_t count, const Status& st, int pa,
                                 int pb, int fp, int warp, int lane, bool active, const float (&a)[VEC],
                                 const float (&b)[VEC]) const {
    __syncthreads();
    if (warp == (backward ? WARPS - 1 : 0) && active) {
      float A[VEC], B[VEC], entering[VEC];
#pragma unroll
      for (int k = 0; k < VEC; ++k) A[k] = a[k], B[k] = b[k];
      compose<backward>(pa, pb, lane, A, B);
      chain<VEC>(tile, step, count, A, B, st, entering);
#pragma unroll
      for (int k = 0; k < VEC; ++k) found(fp, k, lane) = entering[k];
    }
    __syncthreads();
  }
  // h carried through the aggregates (planes pa, pb) of warps [from, to): in warp order, or
  // from the last to the first (`descending`, an adjoint's order).
  template <bool descending = false>
  __device__ void carry(int pa, int pb, int from, int to, int lane, float (&h)[VEC]) const {
    for (int i = 0; i < to - from; ++i) {
      const int w = descending ? to - 1 - i : from + i;
#pragma unroll
      for (int k = 0; k < VEC; ++k) h[k] = fmaf(agg(pa, w, k, lane), h[k], agg(pb, w, k, lane));
    }
  }
  // The tile's aggregate: (A, B) of the warp at one end (`own`), then the other warps' in
  // warp order (or from the last to the first, `descending`).
  template <bool descending = false>
  __device__ void compose(int pa, int pb, int lane, float (&A)[VEC], float (&B)[VEC]) const {
    for (int i = 1; i < WARPS; ++i) {
      const int w = descending ? WARPS - 1 - i : i;
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float wa = agg(pa, w, k, lane);
        B[k] = fmaf(wa, B[k], agg(pb, w, k, lane));
        A[k] *= wa;
      }
    }
  }
};

// This warp's steps of the tile, [first, first + S) cut at the tile's end, and their
// PLANES planes in shared memory ([steps][PLANES][lanes]): the PROJ planes of the
// projections, then dy when PLANES = PROJ + 1 (the backward).
template <class T, int VEC, int S, int PROJ, int PLANES>
struct WarpSteps {
  static_assert(PLANES == PROJ || PLANES == PROJ + 1, "the projections' planes, then dy or nothing");
  Packed<T, VEC>* raw;
  const ScanShape& s;
  const Tile& tile;
  const std::int32_t* reset_row;
  int first, lane;

  __device__ int count() const { return max(0, min(S, tile.steps - first)); }
  // This warp's slot in saved (the chunk its steps lie in), and whether it starts that chunk.
  __device__ std::int64_t saved_at() const { return tile.at + (first / L) * s.N; }
  __device__ bool starts_chunk() const { return first % L == 0; }
  __device__ std::int64_t time(int u) const { return time_of(s, tile, first + u); }
  __device__ std::int64_t row(int u) const { return tile.b * s.T + time(u); }
  __device__ bool blocked_at(int u) const { return blocked(reset_row, s, tile.reverse, time(u)); }
  __device__ void load(int u, int q, float (&out)[VEC]) const {
    load_vec<T, VEC>(raw[((first + u) * PLANES + q) * lanes + lane].v, out);
  }
  // The forward's state entering this warp's steps into saved, when they start a chunk.
  __device__ void save(float* saved, const float (&h_in)[VEC]) const {
    if (!starts_chunk()) return;
#pragma unroll
    for (int k = 0; k < VEC; ++k) saved[saved_at() + k] = h_in[k];
  }
  // The steps' projections (and dy) to shared memory, all in flight together (cp.async); each
  // thread then reads only its own slots, so it waits for its own copies alone. plane(q, row)
  // gives where projection plane q of a token row starts (its channel 0): one fused tensor
  // or several, as the scan's inputs lie.
  template <class Plane>
  __device__ void stage(const Plane& plane, const T* dy) const {
    using V = Packed<T, VEC>;
#pragma unroll
    for (int u = 0; u < S; ++u) {
      if (u >= count()) break;
      V* slot = raw + (first + u) * PLANES * lanes + lane;
#pragma unroll
      for (int q = 0; q < PROJ; ++q)
        copy_to_shared(slot + q * lanes, reinterpret_cast<const V*>(plane(q, row(u)) + tile.c0));
      if constexpr (PLANES > PROJ)
        copy_to_shared(slot + PROJ * lanes, reinterpret_cast<const V*>(dy + row(u) * s.N + tile.c0));
    }
    __pipeline_commit();
    __pipeline_wait_prior(0);
  }
  // The steps run from state 0 (h ← decay·h + drive, step(u, decay, drive) giving them for
  // the lane's channels): local states H_u and decay products P_u, and the aggregate (a, b)
  // of the last.
  template <class Step>
  __device__ void local_states(float (&P)[S][VEC], float (&H)[S][VEC], float (&a)[VEC], float (&b)[VEC],
                               Step&& step) const {
#pragma unroll
    for (int k = 0; k < VEC; ++k) a[k] = 1.0f, b[k] = 0.0f;
#pragma unroll
    for (int u = 0; u < S; ++u) {
      if (u >= count()) break;
      float decay[VEC], drive[VEC];
      step(u, decay, drive);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        b[k] = fmaf(decay[k], b[k], drive[k]);
        a[k] *= decay[k];
        P[u][k] = a[k];
        H[u][k] = b[k];
      }
    }
  }
};

}  // namespace

}  // namespace birdie::kernels::cuda
