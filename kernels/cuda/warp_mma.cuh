// Thin wrappers over the warp matrix instructions of sm_80+ (included by .cu files only):
// inline PTX on the GPU; in the CPU emulation (scripts/cuda_emulation/warp_matrix.h) the
// warp exchanges its fragments at a barrier and each lane computes the registers the PTX
// ISA assigns it. Fragment maps (g = lane >> 2, t = lane % 4), bf16 pairs low half first:
//   mma_m16n8k16_bf16: D (16×8 f32) += A (16×16 bf16, row-major) · B (16×8 bf16, "col"):
//     a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..], a[2] = A[g][2t+8..], a[3] = A[g+8][2t+8..];
//     b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g];
//     d[0..1] = D[g][2t..2t+1], d[2..3] = D[g+8][2t..2t+1].
//   ldmatrix<N, trans>: N 8×8 b16 matrices from shared memory; lane 8m + r passes the
//     address of row r of matrix m (16-byte aligned; lanes past 8N pass any address);
//     r[m] = matrix m's row g, columns 2t, 2t+1 (trans: rows 2t, 2t+1 of column g).
//   cp_async16 / cp_async<BYTES>: global → shared copies that land only after
//     cp_async_commit() and a cp_async_wait<PENDING>() that retires their group.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

namespace birdie::kernels::cuda {

// Two floats as a bf16 pair (round to nearest even), `low` in bits 0-15: the order a
// fragment holds consecutive columns in.
__device__ __forceinline__ std::uint32_t pack_bf16x2(float low, float high) {
  const std::uint32_t lo = __bfloat16_as_ushort(__float2bfloat16_rn(low));
  const std::uint32_t hi = __bfloat16_as_ushort(__float2bfloat16_rn(high));
  return lo | (hi << 16);
}

#ifdef BIRDIE_CUDA_EMULATION

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4],
                                                  const std::uint32_t (&b)[2]) {
  const float c[4] = {d[0], d[1], d[2], d[3]};
  emu::mma_m16n8k16_bf16(d, a, b, c);
}
template <int N, bool TRANS>
__device__ __forceinline__ void ldmatrix(std::uint32_t (&r)[N], const void* row_address) {
  static_assert(N == 1 || N == 2 || N == 4, "ldmatrix loads 1, 2 or 4 matrices");
  emu::ldmatrix(N, TRANS, r, row_address);
}
// cp.async.cg (L2 only) of 16 bytes; src_bytes < 16 fills the rest with zeros (0: no read).
__device__ __forceinline__ void cp_async16(void* dst_shared, const void* src_global, int src_bytes) {
  emu::cp_async(dst_shared, src_global, 16, src_bytes);
}
// cp.async.ca (L1 and L2) of 4, 8 or 16 bytes.
template <int BYTES>
__device__ __forceinline__ void cp_async(void* dst_shared, const void* src_global, int src_bytes) {
  emu::cp_async(dst_shared, src_global, BYTES, src_bytes);
}
__device__ __forceinline__ void cp_async_commit() { emu::cp_async_commit(); }
template <int PENDING>
__device__ __forceinline__ void cp_async_wait() { emu::cp_async_wait(PENDING); }

#else

__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4],
                                                  const std::uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <int N, bool TRANS>
__device__ __forceinline__ void ldmatrix(std::uint32_t (&r)[N], const void* row_address) {
  static_assert(N == 1 || N == 2 || N == 4, "ldmatrix loads 1, 2 or 4 matrices");
  const std::uint32_t a = shared_address(row_address);
  if constexpr (N == 1 && !TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(a));
  else if constexpr (N == 1)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(a));
  else if constexpr (N == 2 && !TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
  else if constexpr (N == 2)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(a));
  else if constexpr (!TRANS)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
}

__device__ __forceinline__ void cp_async16(void* dst_shared, const void* src_global, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst_shared)),
               "l"(src_global), "r"(src_bytes));
}
template <int BYTES>
__device__ __forceinline__ void cp_async(void* dst_shared, const void* src_global, int src_bytes) {
  static_assert(BYTES == 4 || BYTES == 8 || BYTES == 16, "cp.async copies 4, 8 or 16 bytes");
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(shared_address(dst_shared)),
               "l"(src_global), "n"(BYTES), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int PENDING>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory");
}

#endif

}  // namespace birdie::kernels::cuda
