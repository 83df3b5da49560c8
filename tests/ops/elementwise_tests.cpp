// Elementwise maps (kernels/elementwise.h: add, mul, scale, sigmoid, GeLU, accumulate,
// scale_inplace, sum_to_trailing) and their autograd rules (with sum and reshape).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "kernels/convert.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/random.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("elementwise");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("elementwise ops: broadcasting, sigmoid and exact GeLU values") {
  Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor bias = Tensor::from_values<double>({10, 20, 30}, {3});
  Tensor out = Tensor::empty({2, 3}, DType::f64);
  kernels::add(a, bias, out);
  CHECK(out.to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  kernels::mul(a, bias, out);
  CHECK(out.to_vector<double>() == std::vector<double>{10, 40, 90, 40, 100, 180});
  kernels::scale(a, -0.5, out);
  CHECK(out.item(5) == -3.0);
  Tensor wrong = Tensor::zeros({2}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::add(a, wrong, out),
                       doctest::Contains("add: shape of f64[2] cpu is neither equal to nor a "
                                         "trailing part of f64[2, 3] cpu"),
                       Error);
  Tensor x = Tensor::from_values<double>({-2, 0, 1, 3}, {4}), y = Tensor::empty({4}, DType::f64);
  kernels::sigmoid_forward(x, y);
  CHECK(y.item(1) == 0.5);
  CHECK(y.item(3) == doctest::Approx(1 / (1 + std::exp(-3.0))).epsilon(1e-15));
  kernels::gelu_forward(x, y);
  // x·Φ(x): Φ(1) = 0.8413447460685429, Φ(-2) = 0.02275013194817921.
  CHECK(y.item(0) == doctest::Approx(-2 * 0.02275013194817921).epsilon(1e-14));
  CHECK(y.item(1) == 0.0);
  CHECK(y.item(2) == doctest::Approx(0.8413447460685429).epsilon(1e-14));
  Tensor rows = Tensor::empty({3}, DType::f64);
  kernels::sum_to_trailing(a, rows);
  CHECK(rows.to_vector<double>() == std::vector<double>{5, 7, 9});
  Tensor total = Tensor::from_values<double>({1, 2}, {2});
  kernels::accumulate(total, Tensor::from_values<double>({10, 20}, {2}));
  CHECK(total.to_vector<double>() == std::vector<double>{11, 22});
}

TEST_CASE("gradient: add and mul, same shape and broadcast") {
  RandomGenerator rng(12);
  for (Shape sb : {Shape{3, 5}, Shape{5}}) {
    CAPTURE(sb.size());
    check_gradients([](const Inputs& in) { return weighted_sum(ag::add(in[0], in[1])); },
                    {random_tensor({3, 5}, rng), random_tensor(sb, rng)});
    check_gradients([](const Inputs& in) { return weighted_sum(ag::mul(in[0], in[1])); },
                    {random_tensor({3, 5}, rng), random_tensor(sb, rng)});
  }
}

TEST_CASE("gradient: scale, sigmoid, gelu, sum, reshape") {
  RandomGenerator rng(13);
  const Inputs x{random_tensor({3, 7}, rng, -3, 3)};
  check_gradients([](const Inputs& in) { return weighted_sum(ag::scale(in[0], -1.7)); }, x);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::sigmoid(in[0])); }, x);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::gelu(in[0])); }, x);
  check_gradients([](const Inputs& in) { return ag::sum(in[0]); }, x);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::reshape(in[0], {7, 3})); }, x);
}

TEST_CASE("elementwise ops in bf16: broadcasts, a view operand, in-place updates") {
  RandomGenerator rng(3);
  const Tensor a = random_bf16({6, 7, 13}, rng, -3, 3).slice(1, 6);  // a view, [5, 7, 13]
  const Tensor b = random_bf16({5, 7, 13}, rng, -3, 3);
  const Tensor bias = random_bf16({13}, rng);
  const Tensor s = random_bf16({5, 7, 13}, rng, 0.01, 0.99);  // a sigmoid output
  using Inputs = std::vector<Tensor>;  // a, b, bias, s
  const std::vector<std::pair<const char*, std::function<void(const Inputs&, Tensor&)>>> ops{
      {"add (broadcast bias)", [](const Inputs& in, Tensor& out) { kernels::add(in[0], in[2], out); }},
      {"mul", [](const Inputs& in, Tensor& out) { kernels::mul(in[0], in[1], out); }},
      {"scale", [](const Inputs& in, Tensor& out) { kernels::scale(in[0], -0.37, out); }},
      {"sigmoid", [](const Inputs& in, Tensor& out) { kernels::sigmoid_forward(in[0], out); }},
      {"sigmoid_backward", [](const Inputs& in, Tensor& out) { kernels::sigmoid_backward(in[3], in[1], out); }},
      {"gelu", [](const Inputs& in, Tensor& out) { kernels::gelu_forward(in[0], out); }},
      {"gelu_backward", [](const Inputs& in, Tensor& out) { kernels::gelu_backward(in[0], in[1], out); }},
      {"accumulate bf16", [](const Inputs& in, Tensor& out) {
         out.copy_from(in[0]);
         kernels::accumulate(out, in[1]);
       }},
      {"scale_inplace", [](const Inputs& in, Tensor& out) {
         out.copy_from(in[0]);
         kernels::scale_inplace(out, 3.0);
       }},
  };
  const Inputs in16{a, b, bias, s}, in64{wide(a), wide(b), wide(bias), wide(s)};
  for (const auto& [name, run] : ops) {
    CAPTURE(name);
    Tensor got = poisoned(a.shape(), DType::bf16), ref = Tensor::empty(a.shape(), DType::f64);
    run(in16, got);
    run(in64, ref);
    check_close(name, got, ref, bf16_bound);
  }
  Tensor out32 = Tensor::empty(a.shape(), DType::f32);
  CHECK_THROWS_WITH_AS(kernels::add(a.to(DType::f32), b, out32), Contains("add"), Error);
  CHECK_THROWS_WITH_AS(kernels::mul(a, b, out32), Contains("mul"), Error);
}

TEST_CASE("bf16 into f32: accumulate and sum_to_trailing never round to bf16") {
  RandomGenerator rng(4);
  const Tensor dst0 = random_tensor({5, 7, 13}, rng, -1, 1, DType::f32);
  const Tensor src = random_bf16({6, 7, 13}, rng).slice(0, 5);
  Tensor dst = dst0.clone(), dst_ref = wide(dst0);
  kernels::accumulate(dst, src);
  kernels::accumulate(dst_ref, wide(src));
  check_close("accumulate f32 += bf16", dst, dst_ref, f32_bound);

  // 1001 rows of 37 columns, through a slice and a reshape.
  const Tensor in = random_bf16({1002, 37}, rng).slice(1, 1002).reshape({7, 143, 37});
  Tensor sum32 = poisoned({37}, DType::f32), sum16 = poisoned({37}, DType::bf16);
  Tensor sum_ref = Tensor::empty({37}, DType::f64);
  kernels::sum_to_trailing(in, sum32);
  kernels::sum_to_trailing(in, sum16);
  kernels::sum_to_trailing(wide(in), sum_ref);
  check_close("sum_to_trailing bf16 -> f32", sum32, sum_ref, f32_bound);
  check_close("sum_to_trailing bf16 -> bf16", sum16, sum_ref, bf16_bound);

  Tensor dst16 = dst0.to(DType::bf16);
  CHECK_THROWS_WITH_AS(kernels::accumulate(dst16, dst0), Contains("accumulate"), Error);
  Tensor dst64 = wide(dst0);
  CHECK_THROWS_WITH_AS(kernels::accumulate(dst64, src), Contains("accumulate"), Error);
  CHECK_THROWS_WITH_AS(kernels::sum_to_trailing(in.to(DType::f32), sum16), Contains("sum_to_trailing"), Error);
  Tensor sum64 = Tensor::empty({37}, DType::f64);
  CHECK_THROWS_WITH_AS(kernels::sum_to_trailing(in, sum64), Contains("sum_to_trailing"), Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("elementwise ops, broadcasts, accumulate and sum_to_trailing") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    RandomGenerator rng(dtype == DType::f32 ? 80 : 81);
    const Tensor a = random_cpu({5, 7, 13}, dtype, rng, -3.0, 3.0);
    const Tensor b = random_cpu({5, 7, 13}, dtype, rng, -3.0, 3.0);
    const Tensor bias = random_cpu({13}, dtype, rng);
    const Tensor s = random_cpu({5, 7, 13}, dtype, rng, 0.01, 0.99);  // a sigmoid output
    const Tensor bg = b.to(Device::cuda);
    const Tolerance tolerance = tolerance_for(dtype);
    // op(out, on) with on(t) the operand t on the GPU, then as the f64 reference's input: the
    // GPU's output (poisoned first) against the reference's.
    const auto compare = [&](const char* what, const auto& op) {
      Tensor o = poisoned_cuda(a.shape(), dtype), r = Tensor::empty(a.shape(), DType::f64);
      op(o, [](const Tensor& t) { return t.to(Device::cuda); });
      op(r, [](const Tensor& t) { return as_f64_cpu(t); });
      check_close(o, r, tolerance, what);
    };
    compare("add (bias broadcast)", [&](Tensor& out, auto on) { kernels::add(on(a), on(bias), out); });
    compare("mul", [&](Tensor& out, auto on) { kernels::mul(on(a), on(b), out); });
    compare("scale", [&](Tensor& out, auto on) { kernels::scale(on(a), -0.37, out); });
    compare("sigmoid", [&](Tensor& out, auto on) { kernels::sigmoid_forward(on(a), out); });
    compare("sigmoid_backward", [&](Tensor& out, auto on) { kernels::sigmoid_backward(on(s), on(b), out); });
    compare("gelu", [&](Tensor& out, auto on) { kernels::gelu_forward(on(a), out); });
    compare("gelu_backward", [&](Tensor& out, auto on) { kernels::gelu_backward(on(a), on(b), out); });

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

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
