// What the one-pass scans share (the gated scan's scan_one_pass.cu: a warp a tile, and
// scan_one_pass_split.cu: a tile's steps split across warps; the RG-LRU's
// rglru_one_pass.cu): the tile a block owns, the decoupled look-back that gives each tile
// the state entering it, and the gated scan's gate arithmetic.
//
// A tile is 32 lanes × VEC adjacent channels, G chunks of scan_chunk_length steps (one,
// but for the long tiles of scan_one_pass_split.cu), one batch row. Blocks are numbered
// tile-major in scan order (from the end for the backward), so a block waits only on
// blocks dispatched before it: the in-order dispatch that CUB's decoupled look-back relies
// on too.
//
// Look-back. Each lane publishes, per tile, its aggregate (A, B) behind a flag (global
// memory, fenced) and then its inclusive state, each channel's value in one 64-bit word
// beside a mark that it is there (one access, so no fence nor second read is needed: the
// link from one tile's inclusive state to the next's is one store and one load). A lane
// reads its predecessors nearest first until it meets an inclusive state (or the
// sequence's start), walking on past those that have published only their aggregate,
// then applies the aggregates in between in tile order with the same fmaf as the chain
// h_k = A_k·h_{k-1} + B_k: the state it obtains has the same bits whichever states it
// found published, so results do not depend on timing (the three-pass kernel's carries
// are composed the same way).
#pragma once

#include <cuda_pipeline_primitives.h>

#include <cstdint>

#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan.h"
#include "kernels/cuda/scan_common.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int lanes = 32;  // channel groups of a tile
constexpr int L = static_cast<int>(scan_chunk_length);
constexpr int ready_aggregate = 1;

// This lane's part of the block's tile. A tile spans G chunks (G·L steps) in scan order;
// the look-back runs over tiles (`index` of `tiles` along the row), `saved` over chunks.
struct Tile {
  std::int64_t b, chunk;  // batch row, first chunk
  std::int64_t c0;        // first channel; -1 when the block overhangs N
  bool reverse;           // the reverse half of a bidirectional scan
  int steps;              // steps in the tile (the last one may be short)
  std::int64_t at;        // (b·C + chunk)·N + c0: this lane's slot in saved
  std::int64_t index, tiles;  // the tile's place along its row in scan order, of tiles
  std::int64_t status;    // (b·tiles + index)·N + c0: this lane's slot in the status planes
};

template <int G>
__host__ __device__ __forceinline__ std::int64_t tiles_along(const ScanShape& s) {
  return (s.C + G - 1) / G;
}

template <int VEC, int G = 1>
__device__ __forceinline__ Tile tile_of(const ScanShape& s, bool descending, int lane) {
  const std::int64_t groups = s.N / VEC;
  const std::int64_t per_row = (groups + lanes - 1) / lanes;
  const std::int64_t id = blockIdx.x, per_step = s.B * per_row;
  const std::int64_t order = id / per_step, rest = id % per_step;
  Tile t;
  t.tiles = tiles_along<G>(s);
  t.index = descending ? t.tiles - 1 - order : order;
  t.chunk = t.index * G;
  t.b = rest / per_row;
  const std::int64_t group = (rest % per_row) * lanes + lane;
  t.c0 = group < groups ? group * VEC : -1;
  t.reverse = s.bidirectional && t.c0 >= s.N / 2;
  t.steps = static_cast<int>(min(s.T - t.chunk * L, static_cast<std::int64_t>(G * L)));
  t.at = (t.b * s.C + t.chunk) * s.N + t.c0;
  t.status = (t.b * t.tiles + t.index) * s.N + t.c0;
  return t;
}

// σ of bf16 logits takes the fast intrinsics (__expf, __fdividef: about 1e-6 relative,
// far below the 2^-8 rounding the bf16 inputs already carry) because the scan is otherwise
// bound by instruction issue (ncu, H200: the three-pass kernel's passes at 65-75% of the
// SM's issue rate, under 55% of DRAM bandwidth); f32 keeps the accurate form of
// device_math.cuh, since the fp32 bound (1e-5) holds over chains of hundreds of gates.
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

__device__ __forceinline__ int read_flag(const int* flags, std::int64_t i) {
  return *reinterpret_cast<const volatile int*>(flags + i);
}

__device__ __forceinline__ void set_flag(int* flags, std::int64_t i, int value) {
  __threadfence();  // the values it announces are visible first
  *reinterpret_cast<volatile int*>(flags + i) = value;
}

// The status planes in scratch, each [B, tiles, N]: one flag per tile and lane, the
// inclusive states (64-bit words), both zeroed before each launch (one memset), then the
// aggregates A and B (f32). scan_scratch_elements leaves room for them at one chunk a tile.
struct Status {
  int* flags;
  unsigned long long* inclusive;
  float *agg_a, *agg_b;
  float* end;  // the first float of scratch after the planes
};

// An inclusive state: the value's bits in the low half of a 64-bit word, 1 in the high
// half (the planes are zeroed before each launch). An aligned 64-bit access is single-copy
// atomic, so a reader sees the mark and the value together or neither.
__device__ __forceinline__ void publish_inclusive(unsigned long long* slot, float value) {
  *reinterpret_cast<volatile unsigned long long*>(slot) = (1ull << 32) | __float_as_uint(value);
}

__device__ __forceinline__ bool read_inclusive(const unsigned long long* slot, float& value) {
  const unsigned long long word = *reinterpret_cast<const volatile unsigned long long*>(slot);
  value = __uint_as_float(static_cast<unsigned>(word));
  return (word >> 32) != 0;
}

// Whether this tile keeps its inclusive state back: never on a GPU. The emulation
// (scripts/cuda_emulation) runs blocks one after another, where every predecessor has
// finished; it keeps some back so that look-backs walk through aggregates there too.
#ifdef BIRDIE_CUDA_EMULATION
__device__ __forceinline__ bool withheld(std::int64_t tile_index) { return emu::withhold_inclusive(tile_index); }
#else
__device__ __forceinline__ bool withheld(std::int64_t) { return false; }
#endif

// The state entering this lane's tile from the `count` tiles before it in scan order
// (slots at + d·step for d = 1..count): the nearest inclusive state, or 0 at the
// sequence's start, carried through the aggregates in between in tile order. The walk
// reads W predecessors a round (all their loads in flight together, as CUB's look-back
// reads a warp's worth): up to 4, their states taking at most 8 registers a lane (more
// made ptxas spill in the scalar kernels).
template <int VEC>
__device__ void look_back(std::int64_t at, std::int64_t step, std::int64_t count, const float* agg_a,
                          const float* agg_b, const unsigned long long* inclusive, const int* flags,
                          float (&state)[VEC]) {
  constexpr int W = VEC >= 8 ? 1 : VEC == 4 ? 2 : 4;
#pragma unroll
  for (int k = 0; k < VEC; ++k) state[k] = 0.0f;
  std::int64_t next = 1;   // the nearest predecessor not yet passed
  std::int64_t found = 0;  // the one whose inclusive state was taken (0: none)
  while (next <= count && found == 0) {
    // Each predecessor's flag, then its states: if the states are not all there, a flag
    // set before them says the aggregate is.
    int flag[W];
    bool full[W];
    float value[W][VEC];
#pragma unroll
    for (int j = 0; j < W; ++j) {
      flag[j] = 0, full[j] = false;
      if (next + j > count) continue;
      const std::int64_t other = at + (next + j) * step;
      flag[j] = read_flag(flags, other / VEC);
      full[j] = true;
#pragma unroll
      for (int k = 0; k < VEC; ++k) full[j] = read_inclusive(inclusive + other + k, value[j][k]) && full[j];
    }
    // Walk on past those with their aggregate up to the first with its inclusive state; at
    // one with neither, wait and read again from there.
    bool waiting = false;
#pragma unroll
    for (int j = 0; j < W; ++j) {
      if (found != 0 || waiting || next > count) continue;
      if (full[j]) {
        found = next;
#pragma unroll
        for (int k = 0; k < VEC; ++k) state[k] = value[j][k];
      } else if (flag[j] == ready_aggregate) {
        ++next;
      } else {
        waiting = true;
      }
    }
    if (waiting) __nanosleep(32);
  }
  __threadfence();  // the aggregates in between were published behind their flags
  for (std::int64_t d = (found != 0 ? found : count + 1) - 1; d >= 1; --d) {
    const std::int64_t other = at + d * step;
#pragma unroll
    for (int k = 0; k < VEC; ++k) state[k] = fmaf(__ldcg(agg_a + other + k), state[k], __ldcg(agg_b + other + k));
  }
}

// Publishes this lane's aggregate, obtains its entering state, publishes its inclusive
// state. step: -N (forward: the tiles before) or +N (backward: the tiles after).
template <int VEC>
__device__ __forceinline__ void chain(const Tile& tile, std::int64_t step, std::int64_t count,
                                      const float (&A)[VEC], const float (&B)[VEC], const Status& st,
                                      float (&entering)[VEC]) {
  if (count > 0) {
#pragma unroll
    for (int k = 0; k < VEC; ++k) st.agg_a[tile.status + k] = A[k], st.agg_b[tile.status + k] = B[k];
    set_flag(st.flags, tile.status / VEC, ready_aggregate);
    look_back<VEC>(tile.status, step, count, st.agg_a, st.agg_b, st.inclusive, st.flags, entering);
  } else {
#pragma unroll
    for (int k = 0; k < VEC; ++k) entering[k] = 0.0f;
  }
  if (count > 0 && withheld(tile.index)) return;  // its successors walk past it (emulation only)
#pragma unroll
  for (int k = 0; k < VEC; ++k) publish_inclusive(st.inclusive + tile.status + k, fmaf(A[k], entering[k], B[k]));
}

// One step of the recurrence h ← f·h + σ(i)·z (f = 0 where the step is blocked), from the
// step's logits; returns f, for the caller's products of forget gates.
template <class T>
__device__ __forceinline__ float state_step(float i, float f_logit, float z, bool blk, float& h) {
  const float f = blk ? 0.0f : gate<T>(f_logit);
  h = fmaf(f, h, gate<T>(i) * z);
  return f;
}

// One step of the adjoint recurrence, right to left: carry ← f·(carry + dy·GeLU(o)); returns f.
template <class T>
__device__ __forceinline__ float adjoint_step(float f_logit, float o, float dy, bool blk, float& carry) {
  const float f = blk ? 0.0f : gate<T>(f_logit);
  carry = f * fmaf(dy, gelu(o), carry);
  return f;
}

// One step of the backward walk: from the step's projections (i f z o) and dy, the states
// before (h_prev) and after (h) it, and the carry from the step after, the step's four
// projection gradients, stored at d (planes N apart); carry becomes the step before's.
template <class T, int VEC>
__device__ __forceinline__ void backward_step(const float (&iv)[VEC], const float (&fv)[VEC], const float (&zv)[VEC],
                                              const float (&ov)[VEC], const float (&gv)[VEC],
                                              const float (&h_prev)[VEC], const float (&h)[VEC], bool blk,
                                              float (&carry)[VEC], T* d, std::int64_t N) {
  float di[VEC], df[VEC], dz[VEC], dout[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) {
    const float e = gelu_erf(ov[k]);  // one erff for GeLU(o) and GeLU'(o)
    const float dh = fmaf(gv[k], gelu_from_erf(ov[k], e), carry[k]);
    const float si = gate<T>(iv[k]);
    const float f = blk ? 0.0f : gate<T>(fv[k]);
    di[k] = dh * zv[k] * si * (1.0f - si);
    df[k] = blk ? 0.0f : dh * h_prev[k] * f * (1.0f - f);
    dz[k] = dh * si;
    dout[k] = gv[k] * h[k] * gelu_derivative_from_erf(ov[k], e);
    carry[k] = f * dh;
  }
  store_vec<T, VEC>(d, di);
  store_vec<T, VEC>(d + N, df);
  store_vec<T, VEC>(d + 2 * N, dz);
  store_vec<T, VEC>(d + 3 * N, dout);
}

template <int VEC, int G = 1>
Status prepare_status(const ScanShape& s, float* scratch, cudaStream_t stream) {
  const std::int64_t plane = s.B * tiles_along<G>(s) * s.N;
  const std::int64_t flag_words = (plane / VEC + 1) / 2 * 2;  // so that the 64-bit plane is aligned
  Status st;
  st.flags = reinterpret_cast<int*>(scratch);
  st.inclusive = reinterpret_cast<unsigned long long*>(scratch + flag_words);
  st.agg_a = scratch + flag_words + 2 * plane;
  st.agg_b = st.agg_a + plane;
  st.end = st.agg_b + plane;
  const std::size_t zeroed = sizeof(float) * static_cast<std::size_t>(flag_words + 2 * plane);
  BIRDIE_CUDA_CHECK(cudaMemsetAsync(scratch, 0, zeroed, stream));
  return st;
}

template <int VEC, int G = 1>
unsigned tile_blocks(const ScanShape& s) {
  const std::int64_t per_row = (s.N / VEC + lanes - 1) / lanes;
  const std::int64_t blocks = tiles_along<G>(s) * s.B * per_row;
  BIRDIE_CHECK(blocks <= INT32_MAX, "gated scan (one pass): ", blocks, " tiles exceed the grid limit");
  return static_cast<unsigned>(blocks);
}

// Dynamic shared memory beyond 48 KiB needs the kernel's opt-in (per device, so each launch).
template <class K>
void allow_shared(K kernel, std::size_t bytes) {
  if (bytes > 48 * 1024)
    BIRDIE_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

}  // namespace

}  // namespace birdie::kernels::cuda
