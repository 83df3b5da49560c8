// The one-pass CUDA gated scan (kernels/cuda/scan.h says when it runs; kernels/scan.h
// gives the semantics). Each block is one warp and one tile: VEC adjacent channels per
// thread, one chunk of scan_chunk_length steps, one batch row. The tile's projections (and
// dy) go from global to shared memory once, as asynchronous 16-byte copies all in flight
// together; every later phase reads them from there:
//
//   forward:  reduce the chunk to h_end = A·h_start + B; take h_start from the chunks
//             before it (decoupled look-back); publish h_end; rescan, writing y.
//   backward: rebuild the chunk's states from `saved`; reduce the adjoint recurrence
//             carry ← f·(carry + dy·GeLU(o)) right to left; look back at the chunks after
//             it; walk the chunk back, writing dproj.
//
// The look-back and the gate arithmetic: scan_look_back.cuh.
//
// Bytes: forward reads the 4N projections and the reset once and writes y (plus a few
// floats per chunk and channel); backward reads projections, dy and the reset once and
// writes dproj. Gates are computed in each phase that needs them (from shared memory),
// since shared memory has no room to keep them beside the raw tile at full occupancy.
#include "engine/cuda_runtime.h"
#include "kernels/cuda/device_math.cuh"
#include "kernels/cuda/scan.h"
#include "kernels/cuda/scan_common.cuh"
#include "kernels/cuda/scan_look_back.cuh"

namespace birdie::kernels::cuda {

namespace {

constexpr int threads = lanes;  // one warp a tile

template <class T, int VEC>
__global__ void __launch_bounds__(threads)
scan_forward_one_pass(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                      T* __restrict__ y, float* __restrict__ saved, Status st) {
  using V = Packed<T, VEC>;
  extern __shared__ float shared[];
  V* raw = reinterpret_cast<V*>(shared);  // [L][4 gates][threads]
  const Tile tile = tile_of<VEC>(s, false, threadIdx.x);
  if (tile.c0 < 0) return;
  const std::int32_t* reset_row = reset + tile.b * s.T;
  const int me = threadIdx.x;
  for (int j = 0; j < tile.steps; ++j) {
    const T* p = proj + (tile.b * s.T + time_of(s, tile, j)) * 4 * s.N + tile.c0;
#pragma unroll
    for (int q = 0; q < 4; ++q) copy_to_shared(&raw[(j * 4 + q) * threads + me], reinterpret_cast<const V*>(p + q * s.N));
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);  // each thread reads only its own slots: no barrier

  float A[VEC], B[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) A[k] = 1.0f, B[k] = 0.0f;
  for (int j = 0; j < tile.steps; ++j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC];
    load_vec<T, VEC>(raw[(j * 4 + 0) * threads + me].v, iv);
    load_vec<T, VEC>(raw[(j * 4 + 1) * threads + me].v, fv);
    load_vec<T, VEC>(raw[(j * 4 + 2) * threads + me].v, zv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      A[k] *= state_step<T>(iv[k], fv[k], zv[k], blk, B[k]);
    }
  }

  float h[VEC];
  chain<VEC>(tile, -s.N, tile.index, A, B, st, h);
#pragma unroll
  for (int k = 0; k < VEC; ++k) saved[tile.at + k] = h[k];

  for (int j = 0; j < tile.steps; ++j) {
    const std::int64_t t = time_of(s, tile, j);
    const bool blk = blocked(reset_row, s, tile.reverse, t);
    float iv[VEC], fv[VEC], zv[VEC], ov[VEC], out[VEC];
    load_vec<T, VEC>(raw[(j * 4 + 0) * threads + me].v, iv);
    load_vec<T, VEC>(raw[(j * 4 + 1) * threads + me].v, fv);
    load_vec<T, VEC>(raw[(j * 4 + 2) * threads + me].v, zv);
    load_vec<T, VEC>(raw[(j * 4 + 3) * threads + me].v, ov);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      state_step<T>(iv[k], fv[k], zv[k], blk, h[k]);
      out[k] = gelu(ov[k]) * h[k];
    }
    store_vec<T, VEC>(y + (tile.b * s.T + t) * s.N + tile.c0, out);
  }
}

template <class T, int VEC>
__global__ void __launch_bounds__(threads)
scan_backward_one_pass(const T* __restrict__ proj, const std::int32_t* __restrict__ reset, ScanShape s,
                       const float* __restrict__ saved, const T* __restrict__ dy, T* __restrict__ dproj,
                       Status st) {
  using V = Packed<T, VEC>;
  extern __shared__ float shared[];
  V* raw = reinterpret_cast<V*>(shared);                    // [L][i f z o dy][threads]
  float* states = reinterpret_cast<float*>(raw + L * 5 * threads);  // [L][VEC][threads]
  const Tile tile = tile_of<VEC>(s, true, threadIdx.x);
  if (tile.c0 < 0) return;
  const std::int32_t* reset_row = reset + tile.b * s.T;
  const int me = threadIdx.x;
  for (int j = 0; j < tile.steps; ++j) {
    const std::int64_t row = tile.b * s.T + time_of(s, tile, j);
    const T* p = proj + row * 4 * s.N + tile.c0;
#pragma unroll
    for (int q = 0; q < 4; ++q) copy_to_shared(&raw[(j * 5 + q) * threads + me], reinterpret_cast<const V*>(p + q * s.N));
    copy_to_shared(&raw[(j * 5 + 4) * threads + me], reinterpret_cast<const V*>(dy + row * s.N + tile.c0));
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);

  // The chunk's states, rebuilt from the state entering it (as the forward computed them).
  float h_start[VEC], h[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) h_start[k] = h[k] = saved[tile.at + k];
  for (int j = 0; j < tile.steps; ++j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC];
    load_vec<T, VEC>(raw[(j * 5 + 0) * threads + me].v, iv);
    load_vec<T, VEC>(raw[(j * 5 + 1) * threads + me].v, fv);
    load_vec<T, VEC>(raw[(j * 5 + 2) * threads + me].v, zv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      state_step<T>(iv[k], fv[k], zv[k], blk, h[k]);
      states[(j * VEC + k) * threads + me] = h[k];
    }
  }

  // The adjoint recurrence over the chunk, right to left: carry_out = A·carry_in + B.
  float A[VEC], B[VEC];
#pragma unroll
  for (int k = 0; k < VEC; ++k) A[k] = 1.0f, B[k] = 0.0f;
  for (int j = tile.steps - 1; j >= 0; --j) {
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float fv[VEC], ov[VEC], gv[VEC];
    load_vec<T, VEC>(raw[(j * 5 + 1) * threads + me].v, fv);
    load_vec<T, VEC>(raw[(j * 5 + 3) * threads + me].v, ov);
    load_vec<T, VEC>(raw[(j * 5 + 4) * threads + me].v, gv);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      A[k] *= adjoint_step<T>(fv[k], ov[k], gv[k], blk, B[k]);
    }
  }

  float carry[VEC];
  chain<VEC>(tile, s.N, tile.tiles - 1 - tile.index, A, B, st, carry);

  for (int j = tile.steps - 1; j >= 0; --j) {
    const std::int64_t row = tile.b * s.T + time_of(s, tile, j);
    const bool blk = blocked(reset_row, s, tile.reverse, time_of(s, tile, j));
    float iv[VEC], fv[VEC], zv[VEC], ov[VEC], gv[VEC];
    load_vec<T, VEC>(raw[(j * 5 + 0) * threads + me].v, iv);
    load_vec<T, VEC>(raw[(j * 5 + 1) * threads + me].v, fv);
    load_vec<T, VEC>(raw[(j * 5 + 2) * threads + me].v, zv);
    load_vec<T, VEC>(raw[(j * 5 + 3) * threads + me].v, ov);
    load_vec<T, VEC>(raw[(j * 5 + 4) * threads + me].v, gv);
    float h[VEC], h_prev[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      h[k] = states[(j * VEC + k) * threads + me];
      h_prev[k] = j > 0 ? states[((j - 1) * VEC + k) * threads + me] : h_start[k];
    }
    backward_step<T, VEC>(iv, fv, zv, ov, gv, h_prev, h, blk, carry, dproj + row * 4 * s.N + tile.c0, s.N);
  }
}

template <class T, int VEC>
void forward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, T* y, float* saved,
                   float* scratch, cudaStream_t stream) {
  const Status st = prepare_status<VEC>(s, scratch, stream);
  const std::size_t bytes = sizeof(Packed<T, VEC>) * L * 4 * threads;
  allow_shared(scan_forward_one_pass<T, VEC>, bytes);
  scan_forward_one_pass<T, VEC><<<tile_blocks<VEC>(s), threads, bytes, stream>>>(
      proj, reset, s, y, saved, st);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

template <class T, int VEC>
void backward_typed(const T* proj, const std::int32_t* reset, const ScanShape& s, const float* saved,
                    const T* dy, T* dproj, float* scratch, cudaStream_t stream) {
  const Status st = prepare_status<VEC>(s, scratch, stream);
  const std::size_t bytes = (sizeof(Packed<T, VEC>) * 5 + sizeof(float) * VEC) * L * threads;
  allow_shared(scan_backward_one_pass<T, VEC>, bytes);
  scan_backward_one_pass<T, VEC><<<tile_blocks<VEC>(s), threads, bytes, stream>>>(
      proj, reset, s, saved, dy, dproj, st);
  BIRDIE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void gated_scan_forward_one_pass(DType dtype, const void* proj, const std::int32_t* reset,
                                 bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                 void* y, float* saved, float* scratch, cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, y}, "gated_scan_forward, one pass", [&](auto zero, auto vec) {
    using E = decltype(zero);
    forward_typed<E, decltype(vec)::value>(static_cast<const E*>(proj), reset, s, static_cast<E*>(y), saved,
                                           scratch, stream);
  });
}

void gated_scan_backward_one_pass(DType dtype, const void* proj, const std::int32_t* reset,
                                  bool bidirectional, std::int64_t B, std::int64_t T, std::int64_t N,
                                  const float* saved, const void* dy, void* dproj, float* scratch,
                                  cudaStream_t stream) {
  if (B == 0 || T == 0 || N == 0) return;
  const ScanShape s{B, T, N, scan_chunk_count(T), bidirectional};
  dispatch_scan(dtype, s, {proj, dy, dproj}, "gated_scan_backward, one pass", [&](auto zero, auto vec) {
    using E = decltype(zero);
    backward_typed<E, decltype(vec)::value>(static_cast<const E*>(proj), reset, s, saved,
                                            static_cast<const E*>(dy), static_cast<E*>(dproj), scratch, stream);
  });
}

}  // namespace birdie::kernels::cuda
