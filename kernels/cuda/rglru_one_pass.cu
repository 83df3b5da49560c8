// The one-pass CUDA RG-LRU scan (kernels/cuda/rglru.h says when it runs; kernels/rglru.h
// gives the semantics): the gated scan's long tiles (scan_one_pass_split.cu,
// one_pass_tile64) with the RG-LRU's gates. A block of 4 warps owns a tile of 4 chunks
// (64 steps) × 32 lanes × VEC channels (4-byte vectors: 64 bf16 channels) × one row;
// warp w runs steps [16w, 16w + 16) from state 0 (scan_split_tile.cuh), the tile's
// entering state comes by decoupled look-back along the row (scan_look_back.cuh), and
// each element's projections are read from DRAM once, where the three-pass kernels read
// them twice (forward) or three times (backward).
//
//   forward:  h ← a·h + sqrt(1 − a²)·σ(i)·x, decay a and drive from the staged x, r, i;
//             y = h, or GeLU(o)·h with the output gate o staged too; each warp writes
//             `saved` for its chunk (the same [B, chunks, C] as the three-pass forward's,
//             so either backward takes either forward's).
//   backward: the local states again, from `saved` for each warp's chunk; the adjoint
//             carry ← a·(carry + dh) (dh = dy, or dy·GeLU(o)) reduced per warp right to
//             left, composed from the last warp to the first and looked back along the row
//             from its end; then each warp walks its steps back writing dx and dgates (and
//             do = dy·GeLU′(o)·h in a loop after the walk), and the tile's share of dlambda
//             (its warps' shares summed in warp order) goes to scratch [B, tiles, C], summed
//             per channel in a fixed order by the launcher's last kernel (deterministic, no
//             atomics).
//
// The rounding differs from the three-pass kernels' by a few ulps (other association of
// the same products); results do not depend on timing.
#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/rglru.h"
#include "kernels/cuda/rglru_common.cuh"
#include "kernels/cuda/scan_common.cuh"
#include "kernels/cuda/scan_look_back.cuh"
#include "kernels/cuda/scan_split_tile.cuh"

namespace birdie::kernels::cuda {

namespace {

static_assert(rglru_chunk_length == L, "the RG-LRU's chunks are the look-back tiles' chunks");
constexpr int WARPS = 4, S = 16, G = WARPS * S / L, BYTES = 4;  // one_pass_tile64's tile

// The RG-LRU's step for the split tiles, from the staged x, r, i (planes 0-2): decay a
// (0 where blocked) and drive sqrt(1 − a²)·σ(i)·x.
template <class T, int VEC, class Steps>
__device__ __forceinline__ auto rglru_step_of(const Steps& steps, const float (&sp)[VEC]) {
  return [&steps, &sp](int u, float (&decay)[VEC], float (&drive)[VEC]) {
    const bool blk = rglru_blocked(steps.reset_row, steps.s, steps.tile.reverse, steps.time(u));
    float x[VEC], r[VEC], i[VEC];
    steps.load(u, 0, x);
    steps.load(u, 1, r);
    steps.load(u, 2, i);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      const Decay d(blk, sigmoid(r[k]), sp[k]);
      decay[k] = d.a;
      drive[k] = d.scale * sigmoid(i[k]) * x[k];
    }
  };
}

// The staged planes: x, r, i, then the output gate o when GATED (WarpSteps puts dy after
// them in the backward).
template <bool GATED>
constexpr int input_planes = GATED ? 4 : 3;

template <class T, int VEC, bool GATED>
__global__ void __launch_bounds__(WARPS * lanes)
rglru_forward_tiles(const T* __restrict__ x, const T* __restrict__ gates, const T* __restrict__ out_gate,
                    const float* __restrict__ lambda, const std::int32_t* __restrict__ reset, ScanShape s,
                    T* __restrict__ y, float* __restrict__ saved, Status st) {
  constexpr int PROJ = input_planes<GATED>;
  extern __shared__ float shared[];
  const SplitLayout<T, VEC, WARPS, WARPS * S> layout{shared};  // aggregate planes: A, B
  const int lane = threadIdx.x % lanes, warp = threadIdx.x / lanes;
  const Tile tile = tile_of<VEC, G>(s, false, lane);
  const bool active = tile.c0 >= 0;  // every thread reaches the barriers
  const WarpSteps<T, VEC, S, PROJ, PROJ> steps{layout.raw(2), s, tile, reset + tile.b * s.T, warp * S, lane};
  float P[S][VEC], H[S][VEC], a[VEC], b[VEC];
  if (active) {
    float sp[VEC], sn[VEC];
    lambda_terms<VEC>(lambda, tile.c0, sp, sn);
    steps.stage(RglruInputs<T>{x, gates, out_gate, s.N}, nullptr);
    steps.local_states(P, H, a, b, rglru_step_of<T, VEC>(steps, sp));
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
    float out[VEC], ov[VEC];
    if constexpr (GATED) steps.load(u, 3, ov);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      out[k] = fmaf(P[u][k], h_in[k], H[u][k]);
      if constexpr (GATED) out[k] *= gelu(ov[k]);
    }
    store_vec<T, VEC>(y + steps.row(u) * s.N + tile.c0, out);
  }
}

template <class T, int VEC, bool GATED>
__global__ void __launch_bounds__(WARPS * lanes)
rglru_backward_tiles(const T* __restrict__ x, const T* __restrict__ gates, const T* __restrict__ out_gate,
                     const float* __restrict__ lambda, const std::int32_t* __restrict__ reset, ScanShape s,
                     const float* __restrict__ saved, const T* __restrict__ dy, T* __restrict__ dx,
                     T* __restrict__ dgates, T* __restrict__ dout_gate, float* __restrict__ lambda_part, Status st) {
  constexpr int PROJ = input_planes<GATED>, DY = PROJ;  // dy's plane follows the inputs
  extern __shared__ float shared[];
  // Aggregate planes: the forward's A, B; the adjoint's A, B; this warp's dlambda share.
  const SplitLayout<T, VEC, WARPS, WARPS * S> layout{shared};
  const int lane = threadIdx.x % lanes, warp = threadIdx.x / lanes;
  const Tile tile = tile_of<VEC, G>(s, true, lane);
  const bool active = tile.c0 >= 0;
  const WarpSteps<T, VEC, S, PROJ, PROJ + 1> steps{layout.raw(5), s, tile, reset + tile.b * s.T, warp * S, lane};

  float P[S][VEC], H[S][VEC], a[VEC], b[VEC], ca[VEC], cb[VEC], sp[VEC], sn[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) ca[k] = 1.0f, cb[k] = 0.0f;
  if (active) {
    lambda_terms<VEC>(lambda, tile.c0, sp, sn);
    steps.stage(RglruInputs<T>{x, gates, out_gate, s.N}, dy);
    steps.local_states(P, H, a, b, rglru_step_of<T, VEC>(steps, sp));
#pragma unroll
    for (int u = S - 1; u >= 0; --u) {  // the adjoint carry_out = ca·carry_in + cb, right to left
      if (u >= steps.count()) continue;
      const bool blk = rglru_blocked(steps.reset_row, s, tile.reverse, steps.time(u));
      float rv[VEC], gv[VEC], ov[VEC];
      steps.load(u, 1, rv);
      steps.load(u, DY, gv);
      if constexpr (GATED) steps.load(u, 3, ov);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const Decay d(blk, sigmoid(rv[k]), sp[k]);
        if constexpr (GATED) gv[k] *= gelu(ov[k]);
        cb[k] = d.a * (cb[k] + gv[k]);
        ca[k] *= d.a;
      }
    }
    layout.put(0, warp, lane, a);
    layout.put(1, warp, lane, b);
    layout.put(2, warp, lane, ca);
    layout.put(3, warp, lane, cb);
  }
  // The last warp holds the tile's first adjoint aggregate.
  layout.template look_back_tile<true>(tile, s.N, tile.tiles - 1 - tile.index, st, 2, 3, 5, warp, lane, active, ca,
                                       cb);

  float dlambda[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) dlambda[k] = 0.0f;
  if (active && steps.count() > 0) {
    // h_in: the saved state entering this warp's chunk (each warp starts one); carry: the
    // tile's entering adjoint carried through the warps after this one.
    float h_in[VEC], carry[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) h_in[k] = saved[steps.saved_at() + k], carry[k] = layout.found(5, k, lane);
    layout.template carry<true>(2, 3, warp + 1, WARPS, lane, carry);
    const RglruGrads<T> out{dx, dgates, dout_gate, s.N};
#pragma unroll
    for (int u = S - 1; u >= 0; --u) {
      if (u >= steps.count()) continue;
      const bool blk = rglru_blocked(steps.reset_row, s, tile.reverse, steps.time(u));
      float xv[VEC], r[VEC], i[VEC], gv[VEC], ov[VEC], dxv[VEC], dr[VEC], di[VEC];
      steps.load(u, 0, xv);
      steps.load(u, 1, r);
      steps.load(u, 2, i);
      steps.load(u, DY, gv);
      if constexpr (GATED) steps.load(u, 3, ov);
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        const float h_prev = u > 0 ? fmaf(P[u - 1][k], h_in[k], H[u - 1][k]) : h_in[k];
        const float rs = sigmoid(r[k]), is = sigmoid(i[k]);
        const Decay d(blk, rs, sp[k]);
        const float g = (GATED ? gv[k] * gelu(ov[k]) : gv[k]) + carry[k];
        dxv[k] = g * d.scale * is;
        di[k] = g * d.scale * xv[k] * is * (1.0f - is);
        // Blocked: a = 0 is a constant, so neither r nor Λ gets a gradient there.
        const float dlog_a = blk ? 0.0f : g * (d.a * h_prev + d.dscale_dlog_a() * is * xv[k]);
        dr[k] = dlog_a * (-rglru_c * sp[k]) * rs * (1.0f - rs);
        dlambda[k] += dlog_a * rglru_c * rs * sn[k];
        carry[k] = d.a * g;
      }
      out.store(steps.row(u), tile.c0, dxv, dr, di);
    }
    // The output gate's gradient dy·GeLU′(o)·h_t needs no carry: a loop of its own, so the
    // walk above keeps fewer values live (with it inside, ptxas spilled).
    if constexpr (GATED) {
#pragma unroll
      for (int u = 0; u < S; ++u) {
        if (u >= steps.count()) break;
        float gv[VEC], ov[VEC], dov[VEC];
        steps.load(u, DY, gv);
        steps.load(u, 3, ov);
#pragma unroll
        for (int k = 0; k < VEC; ++k) dov[k] = gv[k] * gelu_derivative(ov[k]) * fmaf(P[u][k], h_in[k], H[u][k]);
        out.store_out_gate(steps.row(u), tile.c0, dov);
      }
    }
  }
  if (active) layout.put(4, warp, lane, dlambda);
  __syncthreads();
  if (warp == 0 && active) {
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      float sum = 0.0f;
      for (int w = 0; w < WARPS; ++w) sum += layout.agg(4, w, k, lane);
      lambda_part[tile.status + k] = sum;
    }
  }
}

}  // namespace

void rglru_scan_forward_one_pass(DType dtype, const void* x, const void* gates, const void* out_gate,
                                 const float* lambda, const std::int32_t* reset, bool bidirectional, std::int64_t B,
                                 std::int64_t T, std::int64_t C, void* y, float* saved, float* scratch,
                                 cudaStream_t stream) {
  if (B == 0 || T == 0 || C == 0) return;
  const ScanShape s{B, T, C, rglru_chunk_count(T), bidirectional};
  dispatch_scan<BYTES>(dtype, s, {x, gates, out_gate, y}, "rglru_scan_forward, one pass", [&](auto zero, auto vec) {
    using E = decltype(zero);
    constexpr int VEC = decltype(vec)::value;
    const Status st = prepare_status<VEC, G>(s, scratch, stream);
    with_output_gate(out_gate != nullptr, [&](auto gated) {
      constexpr bool GATED = gated.value;
      const std::size_t bytes = SplitLayout<E, VEC, WARPS, WARPS * S>::bytes(2, input_planes<GATED>);
      allow_shared(rglru_forward_tiles<E, VEC, GATED>, bytes);
      rglru_forward_tiles<E, VEC, GATED><<<tile_blocks<VEC, G>(s), WARPS * lanes, bytes, stream>>>(
          static_cast<const E*>(x), static_cast<const E*>(gates), static_cast<const E*>(out_gate), lambda, reset, s,
          static_cast<E*>(y), saved, st);
      BIRDIE_CUDA_CHECK(cudaGetLastError());
    });
  });
}

void rglru_scan_backward_one_pass(DType dtype, const void* x, const void* gates, const void* out_gate,
                                  const float* lambda, const std::int32_t* reset, bool bidirectional, std::int64_t B,
                                  std::int64_t T, std::int64_t C, const float* saved, const void* dy, void* dx,
                                  void* dgates, void* dout_gate, float* dlambda, float* scratch,
                                  cudaStream_t stream) {
  if (B == 0 || T == 0 || C == 0) return;
  const ScanShape s{B, T, C, rglru_chunk_count(T), bidirectional};
  dispatch_scan<BYTES>(dtype, s, {x, gates, out_gate, dy, dx, dgates, dout_gate}, "rglru_scan_backward, one pass",
                       [&](auto zero, auto vec) {
    using E = decltype(zero);
    constexpr int VEC = decltype(vec)::value;
    const Status st = prepare_status<VEC, G>(s, scratch, stream);
    float* lambda_part = st.end;  // [B, tiles, C]: rglru_scratch_elements leaves room for it
    with_output_gate(out_gate != nullptr, [&](auto gated) {
      constexpr bool GATED = gated.value;
      const std::size_t bytes = SplitLayout<E, VEC, WARPS, WARPS * S>::bytes(5, input_planes<GATED> + 1);
      allow_shared(rglru_backward_tiles<E, VEC, GATED>, bytes);
      rglru_backward_tiles<E, VEC, GATED><<<tile_blocks<VEC, G>(s), WARPS * lanes, bytes, stream>>>(
          static_cast<const E*>(x), static_cast<const E*>(gates), static_cast<const E*>(out_gate), lambda, reset, s,
          saved, static_cast<const E*>(dy), static_cast<E*>(dx), static_cast<E*>(dgates),
          static_cast<E*>(dout_gate), lambda_part, st);
      BIRDIE_CUDA_CHECK(cudaGetLastError());
    });
    launch_rglru_lambda_sum(lambda_part, s.B * tiles_along<G>(s), s.N, dlambda, stream);
  });
}

}  // namespace birdie::kernels::cuda
