// GPU kernels other than scan and matmul against their CPU references (f64): fused
// cross-entropy, RMSNorm (plain and residual-fused), embedding, AdamW, reductions and
// clipping, elementwise ops (with bf16 summed into f32), dtype conversion, and the Philox
// fill (bit-exact); then the same kernels at the sizes where their launches change shape
// (grid-stride loops going round, row slices, several rows per block, 2^31 elements).
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/storage.h"
#include "kernels/adamw.h"
#include "kernels/convert.h"
#include "kernels/cross_entropy.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/random.h"
#include "kernels/reduce.h"
#include "kernels/rmsnorm.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {
namespace {

Tensor random_ids(std::int64_t count, std::int64_t vocab, RandomGenerator& rng,
                  bool with_ignored = false) {
  std::vector<std::int32_t> ids(count);
  for (auto& id : ids) id = static_cast<std::int32_t>(rng.uniform_int(vocab));
  if (with_ignored)
    for (std::int64_t i = 0; i < count; i += 5) ids[i] = kernels::ignore_index;
  return Tensor::from_values<std::int32_t>(ids, {count});
}

}  // namespace

TEST_CASE("cross-entropy: loss and dlogits, f32 and bf16 logits") {
  std::uint64_t seed = 10;
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t V : {std::int64_t{1}, std::int64_t{1001}, std::int64_t{32000}}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(V);
      RandomGenerator rng(++seed);
      const std::int64_t rows = 37;
      const Tensor logits = random_cpu({rows, V}, dtype, rng, -8.0, 8.0);
      const Tensor targets = random_ids(rows, V, rng, true);
      const double scale = 1.0 / 29.0;
      Tensor loss_ref = Tensor::empty({rows}, DType::f64);
      Tensor d_ref = Tensor::empty({rows, V}, DType::f64);
      kernels::cross_entropy_forward_backward(as_f64_cpu(logits), targets, scale, loss_ref, &d_ref);

      // Row loss in f32 whatever the logits' dtype (fp32 reductions).
      Tensor loss = poisoned_cuda({rows}, DType::f32);
      Tensor d = poisoned_cuda({rows, V}, dtype);
      kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss, &d);
      // The loss is computed in f32 from the (exact) input values: the fp32 bound either way.
      check_close(loss, loss_ref, fp32_tolerance, "row loss");
      check_close(d, d_ref, tolerance_for(dtype), "dlogits");

      // Forward only (no dlogits).
      Tensor loss2 = poisoned_cuda({rows}, DType::f32);
      kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss2, nullptr);
      check_close(loss2, loss_ref, fp32_tolerance, "row loss without dlogits");
    }
}

TEST_CASE("cross-entropy: a target outside the vocabulary gives NaN on its row, count_targets names it") {
  const Tensor logits = Tensor::full({3, 5}, 0.5, DType::f32, Device::cuda);
  const Tensor targets = Tensor::from_values<std::int32_t>({1, 7, -1}, {3}).to(Device::cuda);
  Tensor loss = poisoned_cuda({3}, DType::f32), d = poisoned_cuda({3, 5}, DType::f32);
  // The kernel cannot throw without waiting for the device: the bad row is NaN, the others
  // are exact (the ignored row is zero).
  kernels::cross_entropy_forward_backward(logits, targets, 1.0, loss, &d);
  const std::vector<float> l = loss.to_vector<float>(), dv = d.to_vector<float>();
  CHECK(l[0] == doctest::Approx(std::log(5.0)));
  CHECK(std::isnan(l[1]));
  CHECK(l[2] == 0.0f);
  for (int j = 0; j < 5; ++j) {
    CHECK(std::isnan(dv[5 + j]));
    CHECK(dv[10 + j] == 0.0f);
  }
  CHECK_THROWS_WITH_AS(kernels::count_targets(targets, 5),
                       doctest::Contains("target 7 at row 1 is outside the vocabulary [0, 5)"), Error);
}

TEST_CASE("embedding forward and deterministic backward with repeated ids") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 50 : 51);
    const std::int64_t V = 50, D = 37, count = 301;
    const Tensor table = random_cpu({V, D}, dtype, rng);
    Tensor ids = random_ids(count, V, rng);
    ids.data<std::int32_t>()[7] = V - 1;
    ids.data<std::int32_t>()[8] = V - 1;  // repeats, and the last row
    const Tensor ids_gpu = ids.reshape({7, 43}).to(Device::cuda);

    Tensor out_ref = Tensor::empty({count, D}, DType::f64);
    kernels::embedding_forward(as_f64_cpu(table), ids, out_ref);
    Tensor out = poisoned_cuda({7, 43, D}, dtype);
    kernels::embedding_forward(table.to(Device::cuda), ids_gpu, out);
    CHECK(relative_error(out, out_ref) == 0.0);  // a copy: exact

    const Tensor dout = random_cpu({count, D}, dtype, rng);
    const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
    Tensor dtable_ref = as_f64_cpu(dtable0);
    kernels::embedding_backward(ids, as_f64_cpu(dout), dtable_ref);
    // bf16 gradients go into an f32 table gradient (fp32 accumulation).
    Tensor dtable = dtable0.to(Device::cuda);
    kernels::embedding_backward(ids_gpu, dout.reshape({7, 43, D}).to(Device::cuda), dtable);
    check_close(dtable, dtable_ref, fp32_tolerance, "dtable");
    Tensor dtable2 = dtable0.to(Device::cuda);
    kernels::embedding_backward(ids_gpu, dout.reshape({7, 43, D}).to(Device::cuda), dtable2);
    CHECK(dtable.to_vector<float>() == dtable2.to_vector<float>());  // deterministic
  }
}

namespace {
// AdamW on the GPU (with the bf16 compute copy) against the f64 reference on the CPU.
void check_adamw(std::int64_t n, const std::vector<kernels::DecaySegment>& segments,
                 const kernels::AdamWHyper& hyper, RandomGenerator& rng) {
  Tensor p = random_cpu({n}, DType::f32, rng), g = random_cpu({n}, DType::f32, rng);
  Tensor m = random_cpu({n}, DType::f32, rng, -0.1, 0.1), v = random_cpu({n}, DType::f32, rng, 0.0, 0.01);
  Tensor p_ref = as_f64_cpu(p), m_ref = as_f64_cpu(m), v_ref = as_f64_cpu(v);
  kernels::adamw_step(p_ref, as_f64_cpu(g), m_ref, v_ref, segments, hyper);
  Tensor pg = p.to(Device::cuda), mg = m.to(Device::cuda), vg = v.to(Device::cuda);
  Tensor copy = poisoned_cuda({n}, DType::bf16);
  kernels::adamw_step(pg, g.to(Device::cuda), mg, vg, segments, hyper, &copy);
  // f64 arithmetic per element, one rounding to f32 (two for p): far inside fp32.
  check_close(pg, p_ref, fp32_tolerance, "params");
  check_close(mg, m_ref, fp32_tolerance, "m");
  check_close(vg, v_ref, fp32_tolerance, "v");
  // The compute copy is exactly the round-to-nearest-even of the new master weights.
  const std::vector<float> master = pg.to_vector<float>();
  const Tensor copy_host = copy.to(Device::cpu);
  const bfloat16* bits = copy_host.data<bfloat16>();
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < n; ++i) mismatches += bits[i].bits != bfloat16::from_float(master[i]).bits;
  CHECK(mismatches == 0);
}
}  // namespace

TEST_CASE("AdamW over a flat buffer with decay segments and a bf16 compute copy") {
  RandomGenerator rng(60);
  check_adamw(10007, {{0, 1000, true}, {1000, 7, false}, {1007, 0, true}, {1007, 9000, true}},
              {3e-3, 0.9, 0.95, 1e-8, 0.1, 7}, rng);
}

namespace {
// Σ x and Σ x² on the GPU against the f64 CPU sums (both accumulate in double: the
// difference is ~1e-16 relative, far inside the bound).
void check_reductions(const Tensor& x) {
  const Tensor x64 = as_f64_cpu(x);
  const Tensor xg = x.to(Device::cuda);
  CHECK(std::abs(kernels::sum(xg) - kernels::sum(x64)) <= 1e-9 * std::abs(kernels::sum(x64)));
  CHECK(std::abs(kernels::sum_of_squares(xg) - kernels::sum_of_squares(x64)) <=
        1e-9 * kernels::sum_of_squares(x64));
}
}  // namespace

TEST_CASE("sum, sum of squares and global-norm clipping") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 70 : 71);
    const Tensor x = random_cpu({100003}, dtype, rng, -1.0, 2.0);
    check_reductions(x);
  }
  RandomGenerator rng(72);
  std::vector<Tensor> cpu{random_cpu({1000}, DType::f64, rng), random_cpu({33}, DType::f64, rng)};
  std::vector<Tensor> gpu{cpu[0].to(DType::f32).to(Device::cuda), cpu[1].to(DType::f32).to(Device::cuda)};
  const double norm_ref = kernels::clip_global_norm(cpu, 1.0);
  const double norm = kernels::clip_global_norm(gpu, 1.0);
  CHECK(std::abs(norm - norm_ref) < 1e-6 * norm_ref);
  CHECK(norm_ref > 1.0);
  for (int i = 0; i < 2; ++i) check_close(gpu[i], cpu[i], fp32_tolerance, "clipped tensor");
}

TEST_CASE("elementwise ops, broadcasts, accumulate and sum_to_trailing") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 80 : 81);
    const Tensor a = random_cpu({5, 7, 13}, dtype, rng, -3.0, 3.0);
    const Tensor b = random_cpu({5, 7, 13}, dtype, rng, -3.0, 3.0);
    const Tensor bias = random_cpu({13}, dtype, rng);
    const Tensor s = random_cpu({5, 7, 13}, dtype, rng, 0.01, 0.99);  // a sigmoid output
    const Tensor ag = a.to(Device::cuda), bg = b.to(Device::cuda);
    const Tolerance tolerance = tolerance_for(dtype);
    const auto out_like = [&] { return poisoned_cuda(a.shape(), dtype); };
    const auto ref_like = [&] { return Tensor::empty(a.shape(), DType::f64); };

    Tensor o = out_like(), r = ref_like();
    kernels::add(ag, bias.to(Device::cuda), o);
    kernels::add(as_f64_cpu(a), as_f64_cpu(bias), r);
    check_close(o, r, tolerance, "add (bias broadcast)");
    o = out_like(); r = ref_like();
    kernels::mul(ag, bg, o);
    kernels::mul(as_f64_cpu(a), as_f64_cpu(b), r);
    check_close(o, r, tolerance, "mul");
    o = out_like(); r = ref_like();
    kernels::scale(ag, -0.37, o);
    kernels::scale(as_f64_cpu(a), -0.37, r);
    check_close(o, r, tolerance, "scale");
    o = out_like(); r = ref_like();
    kernels::sigmoid_forward(ag, o);
    kernels::sigmoid_forward(as_f64_cpu(a), r);
    check_close(o, r, tolerance, "sigmoid");
    o = out_like(); r = ref_like();
    kernels::sigmoid_backward(s.to(Device::cuda), bg, o);
    kernels::sigmoid_backward(as_f64_cpu(s), as_f64_cpu(b), r);
    check_close(o, r, tolerance, "sigmoid_backward");
    o = out_like(); r = ref_like();
    kernels::gelu_forward(ag, o);
    kernels::gelu_forward(as_f64_cpu(a), r);
    check_close(o, r, tolerance, "gelu");
    o = out_like(); r = ref_like();
    kernels::gelu_backward(ag, bg, o);
    kernels::gelu_backward(as_f64_cpu(a), as_f64_cpu(b), r);
    check_close(o, r, tolerance, "gelu_backward");

    Tensor acc = a.to(Device::cuda), acc_ref = as_f64_cpu(a);
    kernels::accumulate(acc, bg);
    kernels::accumulate(acc_ref, as_f64_cpu(b));
    check_close(acc, acc_ref, tolerance, "accumulate");
    Tensor sc = a.to(Device::cuda), sc_ref = as_f64_cpu(a);
    kernels::scale_inplace(sc, 3.0);
    kernels::scale_inplace(sc_ref, 3.0);
    check_close(sc, sc_ref, tolerance, "scale_inplace");

    const Tensor big = random_cpu({1001, 37}, dtype, rng);
    Tensor st = poisoned_cuda({37}, dtype), st_ref = Tensor::empty({37}, DType::f64);
    kernels::sum_to_trailing(big.to(Device::cuda), st);
    kernels::sum_to_trailing(as_f64_cpu(big), st_ref);
    check_close(st, st_ref, tolerance, "sum_to_trailing");
  }
}

TEST_CASE("mixed precision: bf16 accumulated into f32, bf16 column and row sums into f32") {
  RandomGenerator rng(85);
  const Tensor dst0 = random_cpu({5, 7, 13}, DType::f32, rng);
  const Tensor src = random_cpu({5, 7, 13}, DType::bf16, rng);
  Tensor acc = dst0.to(Device::cuda), acc_cpu = dst0.clone(), acc_ref = as_f64_cpu(dst0);
  kernels::accumulate(acc, src.to(Device::cuda));
  kernels::accumulate(acc_cpu, src);  // the CPU path, bf16 emulated
  kernels::accumulate(acc_ref, as_f64_cpu(src));
  // f32 results: never rounded to bf16, so the fp32 bound against both.
  check_close(acc, acc_cpu, fp32_tolerance, "bf16 into f32, against the CPU path");
  check_close(acc, acc_ref, fp32_tolerance, "bf16 into f32, against f64");

  for (std::int64_t rows : {std::int64_t{1}, std::int64_t{1001}, std::int64_t{16411}}) {
    CAPTURE(rows);  // 1, 3 and 64 (the most) row splits
    const Tensor in = random_cpu({rows, 37}, DType::bf16, rng);
    Tensor sum = poisoned_cuda({37}, DType::f32), sum_cpu = Tensor::empty({37}, DType::f32);
    Tensor sum_ref = Tensor::empty({37}, DType::f64);
    kernels::sum_to_trailing(in.to(Device::cuda), sum);
    kernels::sum_to_trailing(in, sum_cpu);
    kernels::sum_to_trailing(as_f64_cpu(in), sum_ref);
    check_close(sum, sum_cpu, fp32_tolerance, "column sums, against the CPU path");
    check_close(sum, sum_ref, fp32_tolerance, "column sums, against f64");
  }

  // The bias gradient of matmul_fused with bf16 operands and an f32 C, both orientations
  // (cuBLASLt's epilogue, or the mixed sum kernels when it has no algorithm).
  const Tensor a = random_cpu({41, 33}, DType::bf16, rng), b = random_cpu({33, 17}, DType::bf16, rng);
  const Tensor bt = random_cpu({41, 17}, DType::bf16, rng);
  for (bool trans_a : {false, true}) {
    CAPTURE(trans_a);
    const Tensor& other = trans_a ? bt : b;
    const std::int64_t M = trans_a ? 33 : 41, N = 17;
    Tensor c = poisoned_cuda({M, N}, DType::f32), g = poisoned_cuda({M}, DType::f32);
    kernels::matmul_fused(a.to(Device::cuda), trans_a, other.to(Device::cuda), false, c, {{}, g});
    Tensor c_cpu = Tensor::empty({M, N}, DType::f32), g_cpu = Tensor::empty({M}, DType::f32);
    kernels::matmul_fused(a, trans_a, other, false, c_cpu, {{}, g_cpu});
    CHECK(relative_error(c, c_cpu) < fp32_bound);
    CHECK(relative_error(g, g_cpu) < fp32_bound);
  }
}

TEST_CASE("dtype conversion on the GPU matches the host conversion bit for bit") {
  RandomGenerator rng(90);
  Tensor x = random_cpu({4099}, DType::f32, rng, -1e3, 1e3);
  x.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  x.data<float>()[1] = 1.0f + 1.0f / 256.0f;  // a tie: rounds to even
  x.data<float>()[2] = -0.0f;
  // The special values of bfloat16::from_float's rule (engine/dtype.h): NaNs of either
  // sign and any payload become 0x7FFF, infinities, rounding past FLT_MAX, subnormals.
  const std::uint32_t special[] = {0xffc00000u, 0x7f800001u, 0x7f800000u, 0xff800000u, 0x7f7fffffu,
                                   0x00008000u, 0x00018000u, 0x80018000u, 0x007fffffu, 0x00000001u};
  for (std::size_t i = 0; i < std::size(special); ++i)
    x.data<float>()[3 + i] = std::bit_cast<float>(special[i]);
  const Tensor expected = x.to(DType::bf16);
  const Tensor got = kernels::to_dtype(x.to(Device::cuda), DType::bf16).to(Device::cpu);
  CHECK(std::memcmp(got.raw_data(), expected.raw_data(), expected.nbytes()) == 0);
  const Tensor back = kernels::to_dtype(got.to(Device::cuda), DType::f32).to(Device::cpu);
  const Tensor back_ref = expected.to(DType::f32);
  CHECK(std::memcmp(back.raw_data(), back_ref.raw_data(), back_ref.nbytes()) == 0);
  const Tensor d = kernels::to_dtype(x.to(Device::cuda), DType::f64).to(Device::cpu);
  const Tensor d_ref = x.to(DType::f64);
  CHECK(std::memcmp(d.raw_data(), d_ref.raw_data(), d_ref.nbytes()) == 0);
}

TEST_CASE("Philox uniform fill: the GPU draws the CPU's bits") {
  for (std::int64_t n : {std::int64_t{1}, std::int64_t{1001}, std::int64_t{65537}}) {
    CAPTURE(n);
    RandomGenerator cpu_rng(1234, 7), gpu_rng(1234, 7);
    cpu_rng.reserve_blocks(3);
    gpu_rng.reserve_blocks(3);
    Tensor host = Tensor::empty({n}, DType::f32);
    fill_uniform(host, cpu_rng, -0.5, 2.0);
    Tensor device = poisoned_cuda({n}, DType::f32);
    kernels::fill_uniform(device, gpu_rng, -0.5, 2.0);
    CHECK(cpu_rng.state() == gpu_rng.state());
    const Tensor back = device.to(Device::cpu);
    CHECK(std::memcmp(back.raw_data(), host.raw_data(), host.nbytes()) == 0);
  }
}

TEST_CASE("device scalars: sum_into and scale_inplace by a tensor never leave the GPU") {
  RandomGenerator rng(91);
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    const Tensor x = random_cpu({70001}, dtype, rng);
    Tensor out = poisoned_cuda({1}, DType::f32);
    kernels::sum_into(x.to(Device::cuda), 0.25, out);
    // The GPU sums in f32 in its own order: against the exact sum, its error is bounded by
    // about log2(n) roundings of the magnitudes summed, 17 x 2^-24 x sum|x| < 1e-6 sum|x|
    // (a relative bound on the sum itself fails when the terms cancel: seen on an H200,
    // -8.54196 against -8.54199, 3.5e-6 of the sum and 2e-8 of the magnitudes).
    const std::vector<double> values = as_f64_cpu(x).to_vector<double>();
    double magnitudes = 0;
    for (double v : values) magnitudes += std::abs(v);
    CHECK(std::abs(out.item() - 0.25 * kernels::sum(x)) <= 1e-6 * 0.25 * magnitudes);
    Tensor y = x.to(Device::cuda);
    kernels::scale_inplace(y, Tensor::full({1}, -1.5, DType::f32, Device::cuda));
    Tensor expected = x.clone();
    kernels::scale_inplace(expected, -1.5);
    CHECK(relative_error(y, as_f64_cpu(expected)) == 0.0);
  }
}

TEST_CASE("the device memory pool keeps what it reserved across synchronizations") {
  { Tensor big = Tensor::empty({64 << 20}, DType::f32, Device::cuda); }  // 256 MiB, freed
  synchronize_device();
  const MemoryStats stats = memory_stats();
  // With the default release threshold (0) the pool would have returned it to the driver.
  CHECK(stats.device_reserved_bytes >= (std::uint64_t{256} << 20));
  const std::uint64_t allocations = stats.device_allocations;
  { Tensor again = Tensor::empty({64 << 20}, DType::f32, Device::cuda); }
  synchronize_device();
  CHECK(memory_stats().device_reserved_bytes == stats.device_reserved_bytes);
  CHECK(memory_stats().device_allocations == allocations + 1);
}

// ---------------------------------------------------------------------------------------
// Shapes that reach the paths small ones never do: grid-stride loops that go round more
// than once, blocks that take several rows, launches split into slices, the real
// vocabulary, -inf logits, and one conversion past 2^31 elements (a [large] case: the GPU
// suites under compute-sanitizer skip those, see tests/cuda.cmake).

namespace {

// Targets ≠ ignore_index: the rows a mean loss divides by (computed here, on the host).
std::int64_t counted_rows(const Tensor& targets) {
  std::int64_t counted = 0;
  for (std::int32_t t : targets.to_vector<std::int32_t>()) counted += t != kernels::ignore_index;
  return counted;
}

// Elements of `t` (any device) that are not exactly 0, at positions where `where` is true.
std::int64_t nonzero_where(const Tensor& t, const std::vector<bool>& where) {
  const std::vector<double> v = t.to_vector<double>();
  std::int64_t count = 0;
  for (std::size_t i = 0; i < v.size(); ++i) count += where[i] && v[i] != 0.0;
  return count;
}

// The grid-stride launches (convert, elementwise, AdamW) cap their grid at 65536 blocks of
// 256 threads: 2^24 threads. This many elements sends the first 2^20 + 3 threads round
// their loop a second time.
constexpr std::int64_t past_grid_cap = (std::int64_t{1} << 24) + (1 << 20) + 3;

}  // namespace

TEST_CASE("cross-entropy at the real vocabulary: 32000 columns, 1031 rows, -inf logits, ignored rows") {
  // One block of 512 threads per row: 1031 blocks, several waves of them. Each thread walks
  // ~63 columns keeping a running (max, sum); the rows below put -inf where that running
  // pair starts, where a whole thread (or warp) sees nothing else, and where only the
  // target is finite.
  const std::int64_t rows = 1031, V = 32000;
  RandomGenerator rng(15);
  Tensor logits32 = random_cpu({rows, V}, DType::f32, rng, -8.0, 8.0);
  Tensor targets = random_ids(rows, V, rng, true);  // rows 0, 5, 10, ... ignored
  float* l = logits32.data<float>();
  const std::int32_t* t = targets.data<std::int32_t>();
  const float ninf = -std::numeric_limits<float>::infinity();
  for (std::int64_t j = 0; j < V; ++j) {
    if (j != t[1] && j % 2 == 1) l[1 * V + j] = ninf;  // every other logit
    if (j != t[2] && j != (t[2] + 1) % V && j != (t[2] + 7777) % V && j != (t[2] + 20000) % V)
      l[2 * V + j] = ninf;                              // the target and three others finite
    if (j != t[3] && j < 1024) l[3 * V + j] = ninf;    // each thread's first two columns
    if (j != t[4]) l[4 * V + j] = ninf;                 // only the target: loss and dlogits exactly 0
    l[5 * V + j] = ninf;                                // an ignored row of -inf only
  }
  REQUIRE(t[0] == kernels::ignore_index);
  REQUIRE(t[5] == kernels::ignore_index);
  for (int r = 1; r <= 4; ++r) REQUIRE(t[r] != kernels::ignore_index);
  // bf16 values throughout, so one f64 reference serves f32 and bf16 logits alike.
  const Tensor logits_bf16 = logits32.to(DType::bf16);
  const Tensor logits_f32 = logits_bf16.to(DType::f32);
  const double scale = 1.0 / static_cast<double>(counted_rows(targets));
  Tensor loss_ref = Tensor::empty({rows}, DType::f64), d_ref = Tensor::empty({rows, V}, DType::f64);
  kernels::cross_entropy_forward_backward(as_f64_cpu(logits_bf16), targets, scale, loss_ref, &d_ref);
  // dlogits must be exactly 0 on ignored rows and at -inf logits, and the loss of row 4 (a
  // single finite logit) exactly 0.
  std::vector<bool> exact_zero(rows * V, false);
  const std::vector<float> lv = logits_f32.to_vector<float>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < V; ++j)
      exact_zero[r * V + j] = t[r] == kernels::ignore_index || lv[r * V + j] == ninf;
  std::vector<bool> loss_zero(rows, false);
  for (std::int64_t r = 0; r < rows; ++r) loss_zero[r] = t[r] == kernels::ignore_index || r == 4;

  const Tensor targets_gpu = targets.to(Device::cuda);
  struct Variant {
    DType logits, loss;
  };
  for (const Variant v : {Variant{DType::f32, DType::f32}, Variant{DType::bf16, DType::f32},
                          Variant{DType::bf16, DType::bf16}}) {
    CAPTURE(dtype_name(v.logits));
    CAPTURE(dtype_name(v.loss));
    const Tensor logits = (v.logits == DType::bf16 ? logits_bf16 : logits_f32).to(Device::cuda);
    Tensor loss = poisoned_cuda({rows}, v.loss), d = poisoned_cuda({rows, V}, v.logits);
    kernels::cross_entropy_forward_backward(logits, targets_gpu, scale, loss, &d);
    // The loss is computed in f32 from exact inputs; a bf16 row loss is then rounded once.
    check_close(loss, loss_ref, tolerance_for(v.loss), "row loss");
    check_close(d, d_ref, tolerance_for(v.logits), "dlogits");
    CHECK(nonzero_where(d, exact_zero) == 0);
    CHECK(nonzero_where(loss, loss_zero) == 0);
    Tensor loss2 = poisoned_cuda({rows}, v.loss);
    kernels::cross_entropy_forward_backward(logits, targets_gpu, scale, loss2, nullptr);
    check_close(loss2, loss_ref, tolerance_for(v.loss), "row loss without dlogits");
  }
}

TEST_CASE("cross-entropy: every row ignored, and many short rows") {
  SUBCASE("all rows ignored: zero loss and zero dlogits, nothing unwritten") {
    const std::int64_t rows = 37, V = 1001;
    RandomGenerator rng(16);
    const Tensor logits32 = random_cpu({rows, V}, DType::f32, rng, -8.0, 8.0);
    const Tensor targets = Tensor::full({rows}, kernels::ignore_index, DType::i32, Device::cuda);
    for (DType loss_dtype : {DType::f32, DType::bf16}) {
      for (DType logit_dtype : {DType::f32, DType::bf16}) {
        if (logit_dtype == DType::f32 && loss_dtype == DType::bf16) continue;  // not a combination
        CAPTURE(dtype_name(logit_dtype));
        CAPTURE(dtype_name(loss_dtype));
        const Tensor logits = (logit_dtype == DType::f32 ? logits32 : logits32.to(DType::bf16)).to(Device::cuda);
        Tensor loss = poisoned_cuda({rows}, loss_dtype), d = poisoned_cuda({rows, V}, logit_dtype);
        kernels::cross_entropy_forward_backward(logits, targets, 1.0, loss, &d);
        CHECK(nonzero_where(loss, std::vector<bool>(rows, true)) == 0);
        CHECK(nonzero_where(d, std::vector<bool>(rows * V, true)) == 0);
      }
    }
  }
  SUBCASE("266243 rows of a 3-word vocabulary") {
    // One block per row: a grid of 266243 blocks, each row shorter than a warp.
    const std::int64_t rows = 262144 + 4099, V = 3;
    RandomGenerator rng(17);
    const Tensor logits = random_cpu({rows, V}, DType::f32, rng, -4.0, 4.0);
    const Tensor targets = random_ids(rows, V, rng, true);
    const double scale = 1.0 / static_cast<double>(counted_rows(targets));
    Tensor loss_ref = Tensor::empty({rows}, DType::f64), d_ref = Tensor::empty({rows, V}, DType::f64);
    kernels::cross_entropy_forward_backward(as_f64_cpu(logits), targets, scale, loss_ref, &d_ref);
    Tensor loss = poisoned_cuda({rows}, DType::f32), d = poisoned_cuda({rows, V}, DType::f32);
    kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss, &d);
    check_close(loss, loss_ref, fp32_tolerance, "row loss");
    check_close(d, d_ref, fp32_tolerance, "dlogits");
  }
}

TEST_CASE("embedding: more ids than one launch slice of 65535 rows, and rows wider than the column grid") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    {
      // 131087 ids: three slices, runs of equal ids across the slice boundaries.
      // Forward and backward both launch 65535 rows at a time (grid.y). 50 ids over 131087
      // positions: runs of ~2600 equal ids after the sort, so the runs at sorted positions
      // 65535 and 131070 start in one slice and end in the next.
      const std::int64_t V = 50, D = 33, count = 131087;
      RandomGenerator rng(dtype == DType::f32 ? 140 : 141);
      const Tensor table = random_cpu({V, D}, dtype, rng);
      const Tensor ids = random_ids(count, V, rng);
      std::vector<std::int32_t> sorted = ids.to_vector<std::int32_t>();
      std::sort(sorted.begin(), sorted.end());
      REQUIRE(sorted[65534] == sorted[65535]);
      REQUIRE(sorted[131069] == sorted[131070]);
      const Tensor ids_gpu = ids.reshape({17, 7711}).to(Device::cuda);
      Tensor out_ref = Tensor::empty({count, D}, DType::f64);
      kernels::embedding_forward(as_f64_cpu(table), ids, out_ref);
      Tensor out = poisoned_cuda({17, 7711, D}, dtype);
      kernels::embedding_forward(table.to(Device::cuda), ids_gpu, out);
      CHECK(relative_error(out, out_ref) == 0.0);  // a copy: exact
      CHECK(max_abs_error(out, out_ref) == 0.0);

      const Tensor dout = random_cpu({count, D}, dtype, rng);
      const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
      Tensor dtable_ref = as_f64_cpu(dtable0);
      kernels::embedding_backward(ids, as_f64_cpu(dout), dtable_ref);
      Tensor dtable = dtable0.to(Device::cuda);  // f32, accumulated into
      kernels::embedding_backward(ids_gpu, dout.reshape({17, 7711, D}).to(Device::cuda), dtable);
      // ~2600 terms summed in f32 per row: errors ~√2600 half-ulps of the partial sums, ~1e-6
      // of the result, inside the fp32 tolerance.
      check_close(dtable, dtable_ref, fp32_tolerance, "dtable (f32)");
    }
    {
      // Rows of 32771 columns: the forward's 64 column blocks go round 3 times.
      // Forward: at most 64 blocks of 256 threads per row (16384 columns), grid-stride
      // beyond; backward: ceil(D / 256) = 129 column blocks.
      const std::int64_t V = 5, D = 32771;
      RandomGenerator rng(dtype == DType::f32 ? 142 : 143);
      const Tensor table = random_cpu({V, D}, dtype, rng);
      const Tensor ids = Tensor::from_values<std::int32_t>({4, 0, 4, 2, 4, 1, 0}, {7});
      Tensor out_ref = Tensor::empty({7, D}, DType::f64);
      kernels::embedding_forward(as_f64_cpu(table), ids, out_ref);
      Tensor out = poisoned_cuda({7, D}, dtype);
      kernels::embedding_forward(table.to(Device::cuda), ids.to(Device::cuda), out);
      CHECK(max_abs_error(out, out_ref) == 0.0);  // a copy: exact

      const Tensor dout = random_cpu({7, D}, dtype, rng);
      const Tensor dtable0 = random_cpu({V, D}, DType::f32, rng);
      Tensor dtable_ref = as_f64_cpu(dtable0);
      kernels::embedding_backward(ids, as_f64_cpu(dout), dtable_ref);
      Tensor dtable = dtable0.to(Device::cuda);
      kernels::embedding_backward(ids.to(Device::cuda), dout.to(Device::cuda), dtable);
      check_close(dtable, dtable_ref, fp32_tolerance, "dtable (f32)");
    }
  }
}

TEST_CASE("grid-stride loops going round twice: convert, elementwise maps, accumulate") {
  // 17459 × 1021 = 17825639 elements, past 2^24 = 65536 blocks × 256 threads by 1048423:
  // that many threads go round their loop twice. The add's broadcast operand is indexed
  // i % 1021 all the way.
  const Shape shape{17459, 1021};
  REQUIRE(shape_numel(shape) == (std::int64_t{1} << 24) + 1048423);
  RandomGenerator rng(150);
  const Tensor a = random_cpu(shape, DType::f32, rng, -3.0, 3.0);
  const Tensor b = random_cpu({1021}, DType::f32, rng, -3.0, 3.0);
  const Tensor ag = a.to(Device::cuda);
  const Tensor a64 = as_f64_cpu(a);
  {
    Tensor o = poisoned_cuda(shape, DType::f32), r = Tensor::empty(shape, DType::f64);
    kernels::add(ag, b.to(Device::cuda), o);
    kernels::add(a64, as_f64_cpu(b), r);
    check_close(o, r, fp32_tolerance, "add with a broadcast operand (f32)");
  }
  const Tensor a_bf16 = a.to(DType::bf16);
  {
    Tensor o = poisoned_cuda(shape, DType::bf16), r = Tensor::empty(shape, DType::f64);
    kernels::gelu_forward(a_bf16.to(Device::cuda), o);
    kernels::gelu_forward(as_f64_cpu(a_bf16), r);
    check_close(o, r, bf16_tolerance, "GeLU (bf16)");
  }
  {
    const Tensor src = random_cpu(shape, DType::bf16, rng);
    Tensor acc = ag.clone(), acc_ref = a64.clone();
    kernels::accumulate(acc, src.to(Device::cuda));
    kernels::accumulate(acc_ref, as_f64_cpu(src));
    check_close(acc, acc_ref, fp32_tolerance, "bf16 accumulated into f32");
  }
  {
    Tensor o = poisoned_cuda(shape, DType::bf16);
    kernels::convert(ag, o);
    const Tensor got = o.to(Device::cpu);
    CHECK(std::memcmp(got.raw_data(), a_bf16.raw_data(), a_bf16.nbytes()) == 0);
  }
}

TEST_CASE("AdamW past the grid cap, with segment boundaries on both sides of 2^24") {
  RandomGenerator rng(160);
  const std::int64_t n = past_grid_cap, half = std::int64_t{1} << 23, cap = std::int64_t{1} << 24;
  kernels::AdamWHyper hyper{3e-3, 0.9, 0.95, 1e-8, 0.1, 3};
  hyper.grad_scale = 0.5;
  check_adamw(n,
              {{0, half, true},
               {half, 5, false},
               {half + 5, cap + 100 - (half + 5), true},
               {cap + 100, n - (cap + 100), false}},
              hyper, rng);
}

TEST_CASE("reductions going round their 512-block grid, and column sums wider than a block") {
  // The partial sums run a fixed 512 blocks of 256 threads (131072 elements per sweep).
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 170 : 171);
    const Tensor x = random_cpu({3 * 131072 + 17}, dtype, rng, -1.0, 2.0);
    check_reductions(x);  // ~4e5 terms: still ~1e-16 relative either way
  }
  // sum_to_trailing: 300 columns over 2 blocks of 256 threads, 64 row splits.
  RandomGenerator rng(172);
  const Tensor in = random_cpu({16411, 300}, DType::bf16, rng);
  Tensor sum = poisoned_cuda({300}, DType::f32), sum_ref = Tensor::empty({300}, DType::f64);
  kernels::sum_to_trailing(in.to(Device::cuda), sum);
  kernels::sum_to_trailing(as_f64_cpu(in), sum_ref);
  // 16411 terms in f32 (in 64 partial sums of ~257): ~1e-6 of the result's scale.
  check_close(sum, sum_ref, fp32_tolerance, "column sums (bf16 into f32)");
}

// 2^31 + 2^20 + 6 elements: a 32-bit index would wrap (or a 32-bit size truncate) well before
// the end. 8.6 GB of f32 and twice 4.3 GB of bf16 on the GPU; the input is drawn there by
// the Philox fill, and the host checks windows at the start, across 2^31 and at the end
// (the fill against the CPU's draws of the same blocks, the conversion and the scaling
// against the host's rounding), bit for bit. About a second on an H100.
TEST_CASE("conversion, scaling and the Philox fill past 2^31 elements [large]") {
  const std::int64_t n = (std::int64_t{1} << 31) + (1 << 20) + 6;
  const std::uint64_t seed = 180, stream = 3;
  RandomGenerator gpu_rng(seed, stream);  // a fresh stream: the fill uses blocks from 0
  Tensor x = poisoned_cuda({n}, DType::f32);
  kernels::fill_uniform(x, gpu_rng, -1.0, 1.0);
  Tensor y = poisoned_cuda({n}, DType::bf16);
  kernels::convert(x, y);
  Tensor z = poisoned_cuda({n}, DType::bf16);
  kernels::scale(y, 2.0, z);  // exact: doubling a bf16 value

  const std::int64_t edge = std::int64_t{1} << 31, w = 1 << 20;
  struct Window {
    std::int64_t begin, end;  // begin a multiple of 4: a Philox block boundary
  };
  for (const Window win : {Window{0, w}, Window{edge - w / 2, edge + w / 2}, Window{n - w - 2, n}}) {
    CAPTURE(win.begin);
    REQUIRE(win.begin % 4 == 0);
    const std::int64_t len = win.end - win.begin;
    const Tensor xs = x.slice(win.begin, win.end).to(Device::cpu);
    const Tensor ys = y.slice(win.begin, win.end).to(Device::cpu);
    const Tensor zs = z.slice(win.begin, win.end).to(Device::cpu);
    RandomGenerator cpu_rng(RandomState{seed, stream, static_cast<std::uint64_t>(win.begin / 4)});
    Tensor expected = Tensor::empty({len}, DType::f32);
    fill_uniform(expected, cpu_rng, -1.0, 1.0);
    CHECK(std::memcmp(xs.raw_data(), expected.raw_data(), expected.nbytes()) == 0);
    const float* xv = xs.data<float>();
    const bfloat16* yv = ys.data<bfloat16>();
    const bfloat16* zv = zs.data<bfloat16>();
    std::int64_t wrong_convert = 0, wrong_scale = 0;
    for (std::int64_t i = 0; i < len; ++i) {
      const bfloat16 rounded = bfloat16::from_float(xv[i]);
      wrong_convert += yv[i].bits != rounded.bits;
      wrong_scale += zv[i].bits != bfloat16::from_float(2.0f * rounded.to_float()).bits;
    }
    CHECK(wrong_convert == 0);
    CHECK(wrong_scale == 0);
  }
}

// The 16-byte path of the elementwise maps going round its grid: 65536 blocks × 256
// threads × 8 bf16 = 2^27 elements a round, here 2^27 + 2^16 with an operand broadcast
// along rows of 1024. f32 arithmetic, one rounding: the host's checks are bit for bit, in
// windows of 2^16 at the start, across the first round's end and at the end (the second
// round's whole work).
TEST_CASE("elementwise maps on 16-byte vectors going round their grid twice [large]") {
  const std::int64_t width = 1024, rows = (std::int64_t{1} << 17) + 64, n = rows * width;
  const std::uint64_t seed = 190;
  RandomGenerator gpu_rng(seed, 1);
  Tensor a32 = poisoned_cuda({rows, width}, DType::f32);
  kernels::fill_uniform(a32, gpu_rng, -3.0, 3.0);
  const Tensor a = kernels::to_dtype(a32, DType::bf16);
  RandomGenerator rng(seed);
  const Tensor b_host = random_cpu({width}, DType::bf16, rng, -3.0, 3.0);
  const Tensor b = b_host.to(Device::cuda);
  Tensor sum = poisoned_cuda({rows, width}, DType::bf16), product = poisoned_cuda({rows, width}, DType::bf16);
  kernels::add(a, b, sum);
  kernels::mul(a, b, product);
  const std::int64_t round = std::int64_t{1} << 27, w = 1 << 16;
  const bfloat16* bv = b_host.data<bfloat16>();
  for (const std::int64_t begin : {std::int64_t{0}, round - w / 2, n - w}) {
    CAPTURE(begin);
    const Tensor as = a.reshape({n}).slice(begin, begin + w).to(Device::cpu);
    const Tensor ss = sum.reshape({n}).slice(begin, begin + w).to(Device::cpu);
    const Tensor ps = product.reshape({n}).slice(begin, begin + w).to(Device::cpu);
    const bfloat16* av = as.data<bfloat16>();
    std::int64_t wrong_sum = 0, wrong_product = 0;
    for (std::int64_t i = 0; i < w; ++i) {
      const float x = av[i].to_float(), y = bv[(begin + i) % width].to_float();
      wrong_sum += ss.data<bfloat16>()[i].bits != bfloat16::from_float(x + y).bits;
      wrong_product += ps.data<bfloat16>()[i].bits != bfloat16::from_float(x * y).bits;
    }
    CHECK(wrong_sum == 0);
    CHECK(wrong_product == 0);
  }
}

}  // namespace birdie::testing
