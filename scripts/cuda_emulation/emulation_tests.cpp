// Runs the launchers of kernels/cuda/{scan,rmsnorm,embedding,elementwise,cross_entropy,
// reduce,conv1d,rglru,rglru_one_pass,rglru_step,adamw}.cu, compiled for
// the host through cuda_shim.h (see scripts/emulate_cuda_kernels.py; the cases are in
// recurrence_emulation_cases.cpp and layer_emulation_cases.cpp), against direct f64
// references, and checks that the 16-byte-vector and scalar paths give the same bits.
// Exits non-zero on the first failure.
#include <cstdio>
#include <random>
#include <string>

#include "kernels/cuda/rglru.h"
#include "kernels/cuda/scan.h"
#include "emulation_checks.h"

using namespace birdie;
using namespace emulation_checks;
namespace kc = birdie::kernels::cuda;

// Arguments: --big adds the scan with B·chunks > 65535; section names (scan, elementwise, embedding,
// rmsnorm, sum_rows, conv1d, rglru, rglru_step) select sections (default: all).
int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  bool big = false;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--big") big = true;
    else only.push_back(a);
  }
  auto wanted = [&](const char* section) {
    return only.empty() || std::find(only.begin(), only.end(), section) != only.end();
  };
  emu::threaded = false;  // the embedding and most scan kernels have no barriers
  if (wanted("scan"))
  for (DType dt : {DType::f32, DType::bf16})
    for (bool bidir : {false, true}) {
      for (kc::ScanKernel kernel : kc::scan_kernels) {
        kc::set_scan_kernel(kernel);
        // the split kernels' warps meet at barriers (by_shape's backward is one); the others
        // run thread after thread
        emu::threaded = kc::is_split_scan_kernel(kernel) || kernel == kc::ScanKernel::by_shape;
        scan_case(dt, bidir, 3, 37, 16);   // vectors (bf16: 8 channels, f32: 4)
        scan_case(dt, bidir, 2, 33, 12);   // f32 vectors, bf16 scalar (12 % 8)
        scan_case(dt, bidir, 2, 16, 136);  // 136/VEC groups > 64 threads: two blocks in x (3+ one-pass warps)
        scan_case(dt, bidir, 1, 5, 4);     // one partial chunk
        scan_case(dt, bidir, 2, 150, 40);  // 10 chunks: 3 tiles of 64 steps, the last with 22
      }
    }
  kc::set_scan_kernel(kc::ScanKernel::three_pass);
  emu::threaded = false;
  if (big && wanted("scan")) scan_case(DType::f32, false, 3, 16 * 21846, 8);  // B·chunks = 65538 > 65535
  if (wanted("embedding"))
  for (DType gt : {DType::f32, DType::bf16})
    for (DType wt : {DType::f32, DType::bf16}) {
      embedding_case(gt, wt, 301, 50, 37, true);
      embedding_case(gt, wt, 500, 40, 64, true);
      embedding_case(gt, wt, 257, 1, 16, true);
      embedding_case(gt, wt, 100, 1000, 24, false);
    }
  emu::threaded = true;  // block_sum: barriers and shuffles
  if (wanted("rmsnorm")) {
  for (DType dt : {DType::f32, DType::bf16})
    for (DType st : {DType::f32, DType::bf16}) {
      if (dt == DType::f32 && st == DType::bf16) continue;
      rmsnorm_case(dt, st, 33, 3, false);
      rmsnorm_case(dt, st, 33, 100, false);
      rmsnorm_case(dt, st, 9, 2048, false);
      rmsnorm_case(dt, st, 21, 77, true);
      rmsnorm_case(dt, st, 13, 96, true);
      rmsnorm_case(dt, st, 5, 4104, false);  // > 256 groups of 8 or 4: threads stride
      rmsnorm_case(dt, st, 3000, 16, false);  // > 256 backward blocks
    }
  rmsnorm_case(DType::f32, DType::f32, 3, 12800, false);  // > 48 KiB shared: opt-in
  }
  if (wanted("cross_entropy")) {
    for (DType lt : {DType::f32, DType::bf16})
      for (DType st : {DType::f32, DType::bf16}) {
        if (lt == DType::f32 && st == DType::bf16) continue;
        cross_entropy_case(lt, st, 5, 1001);         // bf16 and f32: V not a multiple of the vector
        cross_entropy_case(lt, st, 4, 4096);         // one vector per thread
        cross_entropy_case(lt, st, 4, 32000);        // the real vocabulary: 8 (bf16) or 16 (f32) vectors
        cross_entropy_case(lt, st, 4, 4096, 1);      // misaligned: scalar registers
        cross_entropy_case(lt, st, 4, 40000);        // past the registers: the two-pass kernel
      }
  }
  if (wanted("reduce")) {
    reduce_case(DType::f32, 200003);
    reduce_case(DType::bf16, 1001);
  }
  if (wanted("adamw")) {
    adamw_case(1000);
    adamw_case(256 * 3 + 5);  // a partial last block, a tail after the last group of 4
    adamw_case(3);            // the tail alone
  }
  if (wanted("elementwise"))
    for (DType t : {DType::f32, DType::bf16}) {
      elementwise_case(t, 4096, 4096);  // vectors
      elementwise_case(t, 4096, 64);    // vectors, b broadcast along rows
      elementwise_case(t, 90, 30);      // n % 8 ≠ 0: scalar even when aligned
      elementwise_case(t, 1, 1);
    }
  if (wanted("gated_gelu"))
    for (DType t : {DType::f32, DType::bf16})
      for (bool halves : {false, true}) {
        gated_gelu_case(t, 37, 64, halves);  // vectors
        gated_gelu_case(t, 5, 13, halves);   // width % 8 ≠ 0: scalar even when aligned
      }
  if (wanted("sum_rows")) {
    sum_rows_case(DType::f32, 70, 300);
    sum_rows_case(DType::bf16, 3, 1000);
  }
  emu::threaded = false;  // no barriers in the Hawk kernels
  if (wanted("conv1d"))
    for (DType t : {DType::f32, DType::bf16}) {
      conv1d_case(t, false, 2, 37, 13, 4);
      conv1d_case(t, true, 3, 50, 22, 4);
      conv1d_case(t, true, 2, 19, 6, 3);
      conv1d_case(t, false, 1, 33, 9, 1);
      conv1d_case(t, true, 2, 300, 24, 4);  // several weight-gradient partials
      conv1d_case(t, true, 3, 130, 10, 6);  // wider than 4: the 16-wide register window
      conv1d_case(t, false, 2, 70, 5, 16);  // the widest the kernel takes
    }
  if (wanted("rglru"))
    for (kc::RglruKernel kernel : kc::rglru_kernels) {
      kc::set_rglru_kernel(kernel);
      emu::threaded = kernel == kc::RglruKernel::one_pass;  // its warps meet at barriers
      for (DType t : {DType::f32, DType::bf16})
        for (bool bidir : {false, true}) {
          rglru_case(t, bidir, 2, 37, 16);   // vectors (f32: 4 channels, bf16: 8; one pass: 1 and 2)
          rglru_case(t, bidir, 2, 33, 14);   // scalar (14 / 2 = 7)
          rglru_case(t, bidir, 3, 48, 136);  // T a multiple of 16; two blocks of channels (five 64-channel tiles)
          rglru_case(t, bidir, 1, 5, 6);     // one partial chunk
          rglru_case(t, bidir, 2, 150, 20);  // 10 chunks: 3 tiles of 64 steps, the last with 22
          // Hawk's output gate folded in (y = GeLU(o) ⊙ h): vector and scalar paths, 3 tiles.
          rglru_case(t, bidir, 2, 37, 16, true);
          rglru_case(t, bidir, 2, 33, 14, true);
          rglru_case(t, bidir, 2, 150, 20, true);
        }
    }
  kc::clear_rglru_kernel_choice();
  emu::threaded = false;
  if (wanted("rglru_step"))
    for (DType t : {DType::f32, DType::bf16})
      for (bool bidir : {false, true}) {
        hawk_step_case(t, bidir, 3, 37, 70, 4);  // two blocks of 256 threads (210 lanes: one)
        hawk_step_case(t, bidir, 2, 9, 300, 1);  // width 1: no window
      }
  std::printf("%ld launches, %d failure(s)\n", emu::launches.load(), failures);
  return failures == 0 ? 0 : 1;
}
