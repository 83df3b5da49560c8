// The wrappers of kernels/cuda/warp_mma.cuh alone, through the emulation (compiled with
// cuda_shim.h by scripts/emulate_warp_mma.py): matrix products of small integers (exact
// in bf16 and f32) built from fragments loaded every way the kernels load them, against
// the dense product; ldmatrix register by register; cp.async groups landing only when
// waited for. Every entry of every operand differs from its neighbours, rows are placed
// in shared memory in a scrambled order, and two warps work on different data, so a
// transposed, permuted or shifted fragment, a wrong row address or a wrong warp gives a
// wrong answer. Exits non-zero on any failure.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/warp_mma.cuh"

using namespace birdie::kernels::cuda;

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

constexpr int warps = 2;
constexpr int pitch = 24;  // bf16 per shared row: 48 bytes, 16-byte aligned rows, not 16 apart

// Shared rows in a scrambled order: logical row r of a 16-row operand lives at slot(r).
__device__ int slot(int r) { return (r * 7 + 3) % 16; }

__nv_bfloat16 bf(float x) { return __float2bfloat16_rn(x); }

// Per warp w: A [16][16], B [16][16] (two n-tiles of 8), C [16][16], all small integers.
struct Problem {
  std::vector<float> A, B, C;
};

enum Loader { direct, ldmatrix_plain, ldmatrix_trans, ldmatrix_x1 };

// D = A·B + C for each warp, A and B brought into fragments by `loader`.
__global__ void mma_kernel(const float* A, const float* B, const float* C, float* D, int loader) {
  alignas(16) __shared__ __nv_bfloat16 storage[warps][2][16 * pitch];
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
  const float* a = A + w * 256;
  const float* b = B + w * 256;
  __nv_bfloat16* sa = storage[w][0];
  __nv_bfloat16* sb = storage[w][1];
  // Row-major layouts write A[m][k] at row m, and B as Bᵀ[n][k] at row n; the transposed
  // layouts write Aᵀ[k][m] at row k and B[k][n] at row k.
  const bool trans = loader == ldmatrix_trans;
  for (int e = lane; e < 256; e += 32) {
    const int r = e / 16, c = e % 16;
    sa[slot(r) * pitch + c] = bf(trans ? a[c * 16 + r] : a[r * 16 + c]);
    sb[slot(r) * pitch + c] = bf(trans ? b[r * 16 + c] : b[c * 16 + r]);
  }
  __syncthreads();

  std::uint32_t fa[4], fb[2][2];  // fb[n-tile]
  if (loader == direct) {
    auto A_at = [&](int m, int k) { return a[m * 16 + k]; };
    auto B_at = [&](int k, int n) { return b[k * 16 + n]; };
    fa[0] = pack_bf16x2(A_at(g, 2 * t), A_at(g, 2 * t + 1));
    fa[1] = pack_bf16x2(A_at(g + 8, 2 * t), A_at(g + 8, 2 * t + 1));
    fa[2] = pack_bf16x2(A_at(g, 2 * t + 8), A_at(g, 2 * t + 9));
    fa[3] = pack_bf16x2(A_at(g + 8, 2 * t + 8), A_at(g + 8, 2 * t + 9));
    for (int nt = 0; nt < 2; ++nt) {
      fb[nt][0] = pack_bf16x2(B_at(2 * t, nt * 8 + g), B_at(2 * t + 1, nt * 8 + g));
      fb[nt][1] = pack_bf16x2(B_at(2 * t + 8, nt * 8 + g), B_at(2 * t + 9, nt * 8 + g));
    }
  } else if (loader == ldmatrix_plain) {
    // A: matrices (rows 0-7, cols 0-7), (rows 8-15, cols 0-7), (rows 0-7, cols 8-15), (8-15, 8-15).
    const int m = lane >> 3, r = lane & 7;
    ldmatrix<4, false>(fa, sa + slot(r + (m & 1) * 8) * pitch + (m >> 1) * 8);
    // Bᵀ rows are n: matrices (n 0-7, k 0-7), (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15).
    std::uint32_t f[4];
    ldmatrix<4, false>(f, sb + slot(r + (m >> 1) * 8) * pitch + (m & 1) * 8);
    fb[0][0] = f[0], fb[0][1] = f[1], fb[1][0] = f[2], fb[1][1] = f[3];
  } else if (loader == ldmatrix_trans) {
    // Aᵀ rows are k: matrix (m-block, k-block) is the 8×8 block at rows k-block, cols m-block.
    const int m = lane >> 3, r = lane & 7;
    ldmatrix<4, true>(fa, sa + slot(r + (m >> 1) * 8) * pitch + (m & 1) * 8);
    // B rows are k: x2 per n-tile, matrices (k 0-7), (k 8-15) at columns nt·8.
    for (int nt = 0; nt < 2; ++nt) {
      std::uint32_t f[2];
      ldmatrix<2, true>(f, sb + slot(r + (m & 1) * 8) * pitch + nt * 8);
      fb[nt][0] = f[0], fb[nt][1] = f[1];
    }
  } else {
    // One matrix at a time: A by x1, B by x1 (Bᵀ layout) for n-tile 0 and x1.trans would
    // need B[k][n] rows, so n-tile 1 goes through x2 plain.
    const int r = lane & 7;
    for (int i = 0; i < 4; ++i) {
      std::uint32_t f[1];
      ldmatrix<1, false>(f, sa + slot(r + (i & 1) * 8) * pitch + (i >> 1) * 8);
      fa[i] = f[0];
    }
    for (int i = 0; i < 2; ++i) {
      std::uint32_t f[1];
      ldmatrix<1, false>(f, sb + slot(r) * pitch + i * 8);
      fb[0][i] = f[0];
    }
    std::uint32_t f[2];
    ldmatrix<2, false>(f, sb + slot(r + 8) * pitch + ((lane >> 3) & 1) * 8);
    fb[1][0] = f[0], fb[1][1] = f[1];
  }

  const float* c = C + w * 256;
  float* d = D + w * 256;
  for (int nt = 0; nt < 2; ++nt) {
    float acc[4] = {c[g * 16 + nt * 8 + 2 * t], c[g * 16 + nt * 8 + 2 * t + 1], c[(g + 8) * 16 + nt * 8 + 2 * t],
                    c[(g + 8) * 16 + nt * 8 + 2 * t + 1]};
    mma_m16n8k16_bf16(acc, fa, fb[nt]);
    d[g * 16 + nt * 8 + 2 * t] = acc[0];
    d[g * 16 + nt * 8 + 2 * t + 1] = acc[1];
    d[(g + 8) * 16 + nt * 8 + 2 * t] = acc[2];
    d[(g + 8) * 16 + nt * 8 + 2 * t + 1] = acc[3];
  }
}

void mma_case(int loader, const char* name) {
  std::mt19937 rng(11 + loader);
  std::uniform_int_distribution<int> small(-7, 7);
  Problem p;
  for (auto* v : {&p.A, &p.B, &p.C}) {
    v->resize(warps * 256);
    for (float& x : *v) x = static_cast<float>(small(rng));
  }
  std::vector<float> D(warps * 256, -1000.0f);
  emu::launch(mma_kernel, dim3(1), dim3(32 * warps))(p.A.data(), p.B.data(), p.C.data(), D.data(), loader);
  int wrong = 0;
  for (int w = 0; w < warps; ++w)
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 16; ++n) {
        float ref = p.C[w * 256 + m * 16 + n];
        for (int k = 0; k < 16; ++k) ref += p.A[w * 256 + m * 16 + k] * p.B[w * 256 + k * 16 + n];
        wrong += D[w * 256 + m * 16 + n] != ref;
      }
  check(wrong == 0, std::string("mma m16n8k16 bf16, fragments ") + name + ": " + std::to_string(wrong) + " of 512 wrong");
}

// ldmatrix register by register: shared element (row, col) of matrix m holds the bits
// 1000·m + 16·row + col (distinct for all 4 matrices); lanes past 8·N pass a misaligned
// pointer, which the instruction must ignore.
template <int N, bool TRANS>
__global__ void ldmatrix_kernel(std::uint32_t* out) {
  alignas(16) __shared__ std::uint16_t s[4 * 8][pitch];
  const int lane = threadIdx.x & 31;
  if (threadIdx.x < 32)
    for (int e = lane; e < 4 * 64; e += 32) {
      const int m = e / 64, row = (e / 8) % 8, col = e % 8;
      s[(m * 8 + row) * 5 % 32][col] = static_cast<std::uint16_t>(1000 * m + 16 * row + col);
    }
  __syncthreads();
  if (threadIdx.x >= 32) return;
  std::uint32_t r[N];
  const int m = lane >> 3, row = lane & 7;
  const void* address = lane < 8 * N ? static_cast<const void*>(s[(m * 8 + row) * 5 % 32])
                                     : static_cast<const void*>(reinterpret_cast<const char*>(s) + 2);
  ldmatrix<N, TRANS>(r, address);
  for (int i = 0; i < N; ++i) out[lane * 4 + i] = r[i];
}

template <int N, bool TRANS>
void ldmatrix_case() {
  std::vector<std::uint32_t> out(32 * 4, 0xDEADBEEFu);
  emu::launch(ldmatrix_kernel<N, TRANS>, dim3(1), dim3(32))(out.data());
  int wrong = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int m = 0; m < N; ++m) {
      const int g = lane >> 2, t = lane & 3;
      const auto at = [&](int row, int col) { return static_cast<std::uint32_t>(1000 * m + 16 * row + col); };
      const std::uint32_t ref = TRANS ? (at(2 * t, g) | at(2 * t + 1, g) << 16) : (at(g, 2 * t) | at(g, 2 * t + 1) << 16);
      wrong += out[lane * 4 + m] != ref;
    }
  check(wrong == 0, "ldmatrix x" + std::to_string(N) + (TRANS ? ".trans" : "") + ": " + std::to_string(wrong) +
                        " registers wrong");
}

// cp.async: two committed groups; after wait_group 1 only the first has landed, after
// wait_group 0 both; a short source fills the rest of the 16 bytes with zeros; the .ca
// forms of 4 and 8 bytes.
__global__ void cp_async_kernel(const std::uint32_t* src, std::uint32_t* out) {
  alignas(16) __shared__ std::uint32_t s[4][32];
  const int lane = threadIdx.x;
  for (int i = 0; i < 4; ++i) s[i][lane] = 7;
  __syncthreads();
  if (lane < 8) {
    cp_async16(&s[0][lane * 4], src + lane * 4, 16);  // group 1
    cp_async_commit();
    cp_async16(&s[1][lane * 4], src + 32 + lane * 4, lane % 2 ? 8 : 0);  // group 2
    cp_async<8>(&s[2][lane * 2], src + 64 + lane * 2, 8);
    cp_async<4>(&s[3][lane], src + 96 + lane, 4);
    cp_async_commit();
    cp_async_wait<1>();
  }
  __syncthreads();
  out[lane] = s[0][lane];
  out[32 + lane] = s[1][lane];  // group 2 not waited for: still 7
  __syncthreads();
  if (lane < 8) cp_async_wait<0>();
  __syncthreads();
  for (int i = 0; i < 4; ++i) out[64 + 32 * i + lane] = s[i][lane];
}

void cp_async_case() {
  std::vector<std::uint32_t> src(128), out(192, 0);
  for (int i = 0; i < 128; ++i) src[i] = 100 + i;
  emu::launch(cp_async_kernel, dim3(1), dim3(32))(src.data(), out.data());
  int wrong = 0;
  for (int l = 0; l < 32; ++l) {
    wrong += out[l] != src[l];
    wrong += out[32 + l] != 7u;
    wrong += out[64 + l] != src[l];
    const int chunk = l / 4, word = l % 4;
    wrong += out[96 + l] != (chunk % 2 && word < 2 ? src[32 + l] : 0u);
    wrong += out[128 + l] != (l < 16 ? src[64 + l] : 7u);
    wrong += out[160 + l] != (l < 8 ? src[96 + l] : 7u);
  }
  check(wrong == 0, "cp.async groups, zero fill, .ca 4/8: " + std::to_string(wrong) + " words wrong");
}

}  // namespace

int main() {
  mma_case(direct, "built from the PTX ISA map");
  mma_case(ldmatrix_plain, "by ldmatrix x4 (A row-major, Bᵀ row-major)");
  mma_case(ldmatrix_trans, "by ldmatrix x4.trans and x2.trans (Aᵀ, B row-major)");
  mma_case(ldmatrix_x1, "by ldmatrix x1 and x2");
  ldmatrix_case<1, false>();
  ldmatrix_case<2, false>();
  ldmatrix_case<4, false>();
  ldmatrix_case<1, true>();
  ldmatrix_case<2, true>();
  ldmatrix_case<4, true>();
  cp_async_case();
  std::printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
