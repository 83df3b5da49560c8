// Host emulation of the warp matrix instructions kernels/cuda/warp_mma.cuh wraps
// (included at the end of cuda_shim.h). Each collective instruction meets the warp at its
// barrier: every lane publishes its registers (or its row address), then computes exactly
// the registers the PTX ISA assigns to it:
//   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, with groupID g = lane >> 2 and
//   threadID_in_group t = lane % 4:
//     A (16×16, 4 × b32, low half first): a0,a1 (row g, cols 2t, 2t+1), a2,a3 (row g+8),
//       a4,a5 (row g, cols 2t+8, 2t+9), a6,a7 (row g+8, cols 2t+8, 2t+9);
//     B (16×8, 2 × b32): b0,b1 (rows 2t, 2t+1, col g), b2,b3 (rows 2t+8, 2t+9, col g);
//     C, D (16×8, 4 × f32): c0,c1 (row g, cols 2t, 2t+1), c2,c3 (row g+8).
//   ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16: lane 8m + r gives the address
//     of row r of matrix m (16-byte aligned); register m of lane l holds row l >> 2,
//     columns 2(l % 4) and 2(l % 4)+1 of matrix m, or with .trans rows 2(l % 4) and
//     2(l % 4)+1 of column l >> 2.
//   cp.async.{ca,cg}.shared.global with commit_group / wait_group: copies are queued per
//     thread and happen only when a wait_group retires their group, so a read before its
//     wait sees what was there before (a missing wait shows as a wrong result).
// Products are exact (bf16 × bf16 fits f32), sums in double rounded once to f32: the
// emulation checks fragment maps and data flow, not the tensor cores' rounding.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

namespace emu {

enum WarpOperation { op_mma = 1, op_ldmatrix = 2 };

// Every lane of the warp calls `publish`, meets the others, checks they all run the same
// instruction (a divergent call is an error), then calls `compute`.
template <class Publish, class Compute>
void warp_collective(int operation, Publish publish, Compute compute) {
  if (!threaded) fail("warp matrix instruction in a sequential launch");
  if ((blockDim.x * blockDim.y * blockDim.z) % 32 != 0) fail("warp matrix instruction in a partial warp");
  const unsigned t = linear_thread();
  Warp& w = warps[t / 32];
  const unsigned lane = t % 32;
  w.operation[lane] = operation;
  publish(w, lane);
  w.barrier->arrive_and_wait();
  for (int l = 0; l < 32; ++l)
    if (w.operation[l] != operation) fail("lanes of a warp ran different warp matrix instructions");
  compute(w, lane);
  w.barrier->arrive_and_wait();
}

inline float bf16_low(std::uint32_t word) { return __bfloat162float(__nv_bfloat16{static_cast<std::uint16_t>(word)}); }
inline float bf16_high(std::uint32_t word) { return __bfloat162float(__nv_bfloat16{static_cast<std::uint16_t>(word >> 16)}); }

inline void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                              const float (&c)[4]) {
  float result[4];
  warp_collective(
      op_mma,
      [&](Warp& w, unsigned lane) {
        for (int i = 0; i < 4; ++i) w.words[lane][i] = a[i];
        for (int i = 0; i < 2; ++i) w.words[lane][4 + i] = b[i];
        for (int i = 0; i < 4; ++i) std::memcpy(&w.words[lane][6 + i], &c[i], 4);
      },
      [&](Warp& w, unsigned lane) {
        double A[16][16], B[16][8];
        for (int l = 0; l < 32; ++l) {
          const int g = l >> 2, t = l & 3;
          const std::uint32_t* r = w.words[l];
          A[g][2 * t] = bf16_low(r[0]), A[g][2 * t + 1] = bf16_high(r[0]);
          A[g + 8][2 * t] = bf16_low(r[1]), A[g + 8][2 * t + 1] = bf16_high(r[1]);
          A[g][2 * t + 8] = bf16_low(r[2]), A[g][2 * t + 9] = bf16_high(r[2]);
          A[g + 8][2 * t + 8] = bf16_low(r[3]), A[g + 8][2 * t + 9] = bf16_high(r[3]);
          B[2 * t][g] = bf16_low(r[4]), B[2 * t + 1][g] = bf16_high(r[4]);
          B[2 * t + 8][g] = bf16_low(r[5]), B[2 * t + 9][g] = bf16_high(r[5]);
        }
        const int g = static_cast<int>(lane >> 2), t = static_cast<int>(lane & 3);
        for (int i = 0; i < 4; ++i) {
          const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
          float ci;
          std::memcpy(&ci, &w.words[lane][6 + i], 4);
          double sum = ci;
          for (int k = 0; k < 16; ++k) sum += A[row][k] * B[k][col];
          result[i] = static_cast<float>(sum);
        }
      });
  for (int i = 0; i < 4; ++i) d[i] = result[i];
}

inline std::uint16_t load_b16(const void* row, int column) {
  std::uint16_t v;
  std::memcpy(&v, static_cast<const unsigned char*>(row) + 2 * column, 2);
  return v;
}

// `count` 8×8 matrices of b16 into r[0..count).
inline void ldmatrix(int count, bool trans, std::uint32_t* r, const void* address) {
  warp_collective(
      op_ldmatrix + 16 * count + (trans ? 8 : 0),
      [&](Warp& w, unsigned lane) { w.address[lane] = address; },
      [&](Warp& w, unsigned lane) {
        for (int l = 0; l < 8 * count; ++l)
          if (reinterpret_cast<std::uintptr_t>(w.address[l]) % 16 != 0) fail("ldmatrix row address not 16-byte aligned");
        const int g = static_cast<int>(lane >> 2), t = static_cast<int>(lane & 3);
        for (int m = 0; m < count; ++m) {
          std::uint16_t lo, hi;
          if (trans) {
            lo = load_b16(w.address[8 * m + 2 * t], g);
            hi = load_b16(w.address[8 * m + 2 * t + 1], g);
          } else {
            lo = load_b16(w.address[8 * m + g], 2 * t);
            hi = load_b16(w.address[8 * m + g], 2 * t + 1);
          }
          r[m] = static_cast<std::uint32_t>(lo) | static_cast<std::uint32_t>(hi) << 16;
        }
      });
}

// ---- cp.async: per-thread queues of copies, retired by wait_group.
struct AsyncCopy {
  void* dst;
  const void* src;
  int bytes, src_bytes;
};
struct AsyncCopies {
  std::vector<AsyncCopy> open;              // issued, not yet committed
  std::deque<std::vector<AsyncCopy>> groups;  // committed, oldest first
};
inline thread_local AsyncCopies async_copies;

inline void cp_async(void* dst, const void* src, int bytes, int src_bytes) {
  if (bytes != 4 && bytes != 8 && bytes != 16) fail("cp.async of a size other than 4, 8, 16");
  if (src_bytes < 0 || src_bytes > bytes) fail("cp.async source size outside [0, cp-size]");
  if (reinterpret_cast<std::uintptr_t>(dst) % bytes != 0 || reinterpret_cast<std::uintptr_t>(src) % bytes != 0)
    fail("cp.async with a misaligned address");
  async_copies.open.push_back({dst, src, bytes, src_bytes});
}
inline void cp_async_commit() {
  async_copies.groups.push_back(std::move(async_copies.open));
  async_copies.open.clear();
}
// Retires every committed group but the `pending` most recent ones.
inline void cp_async_wait(int pending) {
  while (static_cast<int>(async_copies.groups.size()) > pending) {
    for (const AsyncCopy& c : async_copies.groups.front()) {
      std::memcpy(c.dst, c.src, static_cast<std::size_t>(c.src_bytes));
      std::memset(static_cast<unsigned char*>(c.dst) + c.src_bytes, 0, static_cast<std::size_t>(c.bytes - c.src_bytes));
    }
    async_copies.groups.pop_front();
  }
}

inline void check_thread_at_block_end() {
  if (!async_copies.open.empty() || !async_copies.groups.empty()) {
    async_copies = AsyncCopies{};
    fail("a thread ended its block with cp.async copies never waited for");
  }
}

}  // namespace emu
