// GPU kernels other than scan and matmul against their CPU references (f64): fused
// cross-entropy, RMSNorm (plain and residual-fused), embedding, AdamW, reductions and
// clipping, elementwise ops (with bf16 summed into f32), dtype conversion, and the Philox
// fill (bit-exact).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

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

TEST_CASE("cross-entropy: loss, dlogits and counted rows, f32 and bf16 logits") {
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
      CHECK(relative_error(loss, loss_ref) < fp32_bound);
      CHECK(relative_error(d, d_ref) < bound_for(dtype));

      // Forward only (no dlogits).
      Tensor loss2 = poisoned_cuda({rows}, DType::f32);
      kernels::cross_entropy_forward_backward(logits.to(Device::cuda), targets.to(Device::cuda), scale, loss2, nullptr);
      CHECK(relative_error(loss2, loss_ref) < fp32_bound);
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

TEST_CASE("RMSNorm forward and backward, f32 and bf16, odd widths") {
  std::uint64_t seed = 30;
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t D : {std::int64_t{3}, std::int64_t{100}, std::int64_t{2048}}) {
      // (Not D = 1: there dx = inv·g·w·eps/(x² + eps) is a cancellation no fp32 code meets 1e-5 on.)
      CAPTURE(dtype_name(dtype));
      CAPTURE(D);
      RandomGenerator rng(++seed);
      const std::int64_t rows = 33;
      const Tensor x = random_cpu({3, rows / 3, D}, dtype, rng, -2.0, 2.0);
      const Tensor w = random_cpu({D}, dtype, rng, 0.5, 1.5);
      const Tensor dy = random_cpu({3, rows / 3, D}, dtype, rng);
      const Tensor dw0 = random_cpu({D}, DType::f32, rng);

      Tensor y_ref = Tensor::empty(x.shape(), DType::f64), inv_ref = Tensor::empty({rows}, DType::f64);
      kernels::rmsnorm_forward(as_f64_cpu(x), as_f64_cpu(w), 1e-5, y_ref, inv_ref);
      Tensor dx_ref = Tensor::empty(x.shape(), DType::f64);
      Tensor dw_ref = as_f64_cpu(dw0);
      kernels::rmsnorm_backward(as_f64_cpu(x), as_f64_cpu(w), inv_ref, as_f64_cpu(dy), dx_ref, dw_ref);

      const Tensor xg = x.to(Device::cuda), wg = w.to(Device::cuda);
      Tensor y = poisoned_cuda(x.shape(), dtype), inv = poisoned_cuda({rows}, DType::f32);
      kernels::rmsnorm_forward(xg, wg, 1e-5, y, inv);
      CHECK(relative_error(y, y_ref) < bound_for(dtype));
      CHECK(relative_error(inv, inv_ref) < fp32_bound);
      Tensor dx = poisoned_cuda(x.shape(), dtype);
      Tensor dw = dw0.to(Device::cuda);  // accumulated into, f32
      kernels::rmsnorm_backward(xg, wg, inv, dy.to(Device::cuda), dx, dw);
      CHECK(relative_error(dx, dx_ref) < bound_for(dtype));
      CHECK(relative_error(dw, dw_ref) < bound_for(dtype));
    }
}

TEST_CASE("RMSNorm fused with the residual add") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 40 : 41);
    const std::int64_t rows = 21, D = 77;
    const Tensor x = random_cpu({rows, D}, dtype, rng, -2.0, 2.0);
    const Tensor r = random_cpu({rows, D}, dtype, rng, -2.0, 2.0);
    const Tensor w = random_cpu({D}, dtype, rng, 0.5, 1.5);
    Tensor h_ref = Tensor::empty({rows, D}, DType::f64), y_ref = Tensor::empty({rows, D}, DType::f64);
    Tensor inv_ref = Tensor::empty({rows}, DType::f64);
    kernels::rmsnorm_residual_forward(as_f64_cpu(x), as_f64_cpu(r), as_f64_cpu(w), 1e-6, h_ref, y_ref, inv_ref);
    Tensor h = poisoned_cuda({rows, D}, dtype), y = poisoned_cuda({rows, D}, dtype);
    Tensor inv = poisoned_cuda({rows}, DType::f32);
    kernels::rmsnorm_residual_forward(x.to(Device::cuda), r.to(Device::cuda), w.to(Device::cuda), 1e-6, h, y, inv);
    CHECK(relative_error(h, h_ref) < bound_for(dtype));
    CHECK(relative_error(y, y_ref) < bound_for(dtype));
    CHECK(relative_error(inv, inv_ref) < bound_for(dtype));
  }
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
    CHECK(relative_error(dtable, dtable_ref) < fp32_bound);
    Tensor dtable2 = dtable0.to(Device::cuda);
    kernels::embedding_backward(ids_gpu, dout.reshape({7, 43, D}).to(Device::cuda), dtable2);
    CHECK(dtable.to_vector<float>() == dtable2.to_vector<float>());  // deterministic
  }
}

TEST_CASE("AdamW over a flat buffer with decay segments and a bf16 compute copy") {
  RandomGenerator rng(60);
  const std::int64_t n = 10007;
  const std::vector<kernels::DecaySegment> segments{{0, 1000, true}, {1000, 7, false}, {1007, 0, true},
                                                    {1007, 9000, true}};
  Tensor p = random_cpu({n}, DType::f32, rng), g = random_cpu({n}, DType::f32, rng);
  Tensor m = random_cpu({n}, DType::f32, rng, -0.1, 0.1), v = random_cpu({n}, DType::f32, rng, 0.0, 0.01);
  const kernels::AdamWHyper hyper{3e-3, 0.9, 0.95, 1e-8, 0.1, 7};
  Tensor p_ref = as_f64_cpu(p), m_ref = as_f64_cpu(m), v_ref = as_f64_cpu(v);
  kernels::adamw_step(p_ref, as_f64_cpu(g), m_ref, v_ref, segments, hyper);

  Tensor pg = p.to(Device::cuda), mg = m.to(Device::cuda), vg = v.to(Device::cuda);
  Tensor copy = poisoned_cuda({n}, DType::bf16);
  kernels::adamw_step(pg, g.to(Device::cuda), mg, vg, segments, hyper, &copy);
  CHECK(relative_error(pg, p_ref) < fp32_bound);
  CHECK(relative_error(mg, m_ref) < fp32_bound);
  CHECK(relative_error(vg, v_ref) < fp32_bound);
  // The compute copy is exactly the round-to-nearest-even of the new master weights.
  const std::vector<float> master = pg.to_vector<float>();
  const Tensor copy_host = copy.to(Device::cpu);
  const bfloat16* bits = copy_host.data<bfloat16>();
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < n; ++i) mismatches += bits[i].bits != bfloat16::from_float(master[i]).bits;
  CHECK(mismatches == 0);
}

TEST_CASE("sum, sum of squares and global-norm clipping") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 70 : 71);
    const Tensor x = random_cpu({100003}, dtype, rng, -1.0, 2.0);
    const Tensor x64 = as_f64_cpu(x);
    const Tensor xg = x.to(Device::cuda);
    CHECK(std::abs(kernels::sum(xg) - kernels::sum(x64)) <= 1e-9 * std::abs(kernels::sum(x64)));
    CHECK(std::abs(kernels::sum_of_squares(xg) - kernels::sum_of_squares(x64)) <=
          1e-9 * kernels::sum_of_squares(x64));
  }
  RandomGenerator rng(72);
  std::vector<Tensor> cpu{random_cpu({1000}, DType::f64, rng), random_cpu({33}, DType::f64, rng)};
  std::vector<Tensor> gpu{cpu[0].to(DType::f32).to(Device::cuda), cpu[1].to(DType::f32).to(Device::cuda)};
  const double norm_ref = kernels::clip_global_norm(cpu, 1.0);
  const double norm = kernels::clip_global_norm(gpu, 1.0);
  CHECK(std::abs(norm - norm_ref) < 1e-6 * norm_ref);
  CHECK(norm_ref > 1.0);
  for (int i = 0; i < 2; ++i) CHECK(relative_error(gpu[i], cpu[i]) < fp32_bound);
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
    const double bound = bound_for(dtype);
    const auto out_like = [&] { return poisoned_cuda(a.shape(), dtype); };
    const auto ref_like = [&] { return Tensor::empty(a.shape(), DType::f64); };

    Tensor o = out_like(), r = ref_like();
    kernels::add(ag, bias.to(Device::cuda), o);
    kernels::add(as_f64_cpu(a), as_f64_cpu(bias), r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::mul(ag, bg, o);
    kernels::mul(as_f64_cpu(a), as_f64_cpu(b), r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::scale(ag, -0.37, o);
    kernels::scale(as_f64_cpu(a), -0.37, r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::sigmoid_forward(ag, o);
    kernels::sigmoid_forward(as_f64_cpu(a), r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::sigmoid_backward(s.to(Device::cuda), bg, o);
    kernels::sigmoid_backward(as_f64_cpu(s), as_f64_cpu(b), r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::gelu_forward(ag, o);
    kernels::gelu_forward(as_f64_cpu(a), r);
    CHECK(relative_error(o, r) < bound);
    o = out_like(); r = ref_like();
    kernels::gelu_backward(ag, bg, o);
    kernels::gelu_backward(as_f64_cpu(a), as_f64_cpu(b), r);
    CHECK(relative_error(o, r) < bound);

    Tensor acc = a.to(Device::cuda), acc_ref = as_f64_cpu(a);
    kernels::accumulate(acc, bg);
    kernels::accumulate(acc_ref, as_f64_cpu(b));
    CHECK(relative_error(acc, acc_ref) < bound);
    Tensor sc = a.to(Device::cuda), sc_ref = as_f64_cpu(a);
    kernels::scale_inplace(sc, 3.0);
    kernels::scale_inplace(sc_ref, 3.0);
    CHECK(relative_error(sc, sc_ref) < bound);

    const Tensor big = random_cpu({1001, 37}, dtype, rng);
    Tensor st = poisoned_cuda({37}, dtype), st_ref = Tensor::empty({37}, DType::f64);
    kernels::sum_to_trailing(big.to(Device::cuda), st);
    kernels::sum_to_trailing(as_f64_cpu(big), st_ref);
    CHECK(relative_error(st, st_ref) < bound);
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
  CHECK(relative_error(acc, acc_cpu) < fp32_bound);
  CHECK(relative_error(acc, acc_ref) < fp32_bound);

  for (std::int64_t rows : {std::int64_t{1}, std::int64_t{1001}, std::int64_t{16411}}) {
    CAPTURE(rows);  // 1, 3 and 64 (the most) row splits
    const Tensor in = random_cpu({rows, 37}, DType::bf16, rng);
    Tensor sum = poisoned_cuda({37}, DType::f32), sum_cpu = Tensor::empty({37}, DType::f32);
    Tensor sum_ref = Tensor::empty({37}, DType::f64);
    kernels::sum_to_trailing(in.to(Device::cuda), sum);
    kernels::sum_to_trailing(in, sum_cpu);
    kernels::sum_to_trailing(as_f64_cpu(in), sum_ref);
    CHECK(relative_error(sum, sum_cpu) < fp32_bound);
    CHECK(relative_error(sum, sum_ref) < fp32_bound);
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
    CHECK(out.item() == doctest::Approx(0.25 * kernels::sum(x)).epsilon(1e-6));
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

}  // namespace birdie::testing
