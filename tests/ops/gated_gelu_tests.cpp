// The gated GeLU (kernels/gated_gelu.h: gelu_mul, geglu) and its autograd rules.
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include "kernels/columns.h"
#include "kernels/elementwise.h"
#include "kernels/gated_gelu.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("gated_gelu");
using doctest::Contains;

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("gelu_mul and geglu: the bits of gelu then mul, forward and backward, f32 and f64") {
  RandomGenerator rng(1);
  for (DType dtype : {DType::f32, DType::f64}) {
    CAPTURE(dtype_name(dtype));
    const std::int64_t M = 7;
    const Tensor x = random_tensor({2, 3, 2 * M}, rng, -3, 3, dtype), dy = random_tensor({2, 3, M}, rng, -1, 1, dtype);
    Tensor a = Tensor::empty({2, 3, M}, dtype), b = Tensor::empty({2, 3, M}, dtype);
    kernels::copy_columns(x, 0, a, 0, M);
    kernels::copy_columns(x, M, b, 0, M);
    // Unfused: gelu, mul, and the backward rules of mul then gelu.
    const auto like_a = [&] { return Tensor::empty(a.shape(), dtype); };
    Tensor activated = like_a(), unfused = like_a(), da_mul = like_a(), da = like_a(), db = like_a();
    kernels::gelu_forward(a, activated);
    kernels::mul(activated, b, unfused);
    kernels::mul(dy, b, da_mul);
    kernels::gelu_backward(a, da_mul, da);
    kernels::mul(dy, activated, db);

    Tensor fused = poisoned(a.shape(), dtype), fda = poisoned(a.shape(), dtype), fdb = poisoned(a.shape(), dtype);
    kernels::gelu_mul_forward(a, b, fused);
    kernels::gelu_mul_backward(a, b, dy, fda, fdb);
    CHECK(same_bits(fused, unfused));
    CHECK(same_bits(fda, da));
    CHECK(same_bits(fdb, db));

    Tensor halves = poisoned(a.shape(), dtype), dx = poisoned(x.shape(), dtype);
    kernels::geglu_forward(x, halves);
    kernels::geglu_backward(x, dy, dx);
    CHECK(same_bits(halves, unfused));
    Tensor dx_a = like_a(), dx_b = like_a();
    kernels::copy_columns(dx, 0, dx_a, 0, M);
    kernels::copy_columns(dx, M, dx_b, 0, M);
    CHECK(same_bits(dx_a, da));
    CHECK(same_bits(dx_b, db));
  }
}

TEST_CASE("gradient: gelu_mul and geglu") {
  RandomGenerator rng(2);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::gelu_mul(in[0], in[1])); },
                  {random_tensor({3, 5}, rng, -3, 3), random_tensor({3, 5}, rng, -2, 2)});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::gelu_mul(in[0], in[0])); },
                  {random_tensor({4}, rng, -3, 3)});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::geglu(in[0])); },
                  {random_tensor({2, 3, 8}, rng, -3, 3)});
}

TEST_CASE("gated GeLU in bf16: each output rounded once, against f64") {
  RandomGenerator rng(3);
  const std::int64_t M = 24;
  const Tensor x = random_bf16({5, 2 * M}, rng, -3, 3), dy = random_bf16({5, M}, rng);
  Tensor out = poisoned({5, M}, DType::bf16), dx = poisoned({5, 2 * M}, DType::bf16);
  kernels::geglu_forward(x, out);
  kernels::geglu_backward(x, dy, dx);
  Tensor out_ref = Tensor::empty({5, M}, DType::f64), dx_ref = Tensor::empty({5, 2 * M}, DType::f64);
  kernels::geglu_forward(wide(x), out_ref);
  kernels::geglu_backward(wide(x), wide(dy), dx_ref);
  check_close("geglu bf16", out, out_ref, bf16_bound);
  check_close("geglu_backward bf16", dx, dx_ref, bf16_bound);
  Tensor out32 = Tensor::empty({5, M}, DType::f32);
  kernels::geglu_forward(x.to(DType::f32), out32);
  CHECK(same_bits(out, out32.to(DType::bf16)));
}

TEST_CASE("gated GeLU operands are checked, naming the op") {
  const Tensor a = Tensor::zeros({2, 3}, DType::f32), odd = Tensor::zeros({2, 5}, DType::f32);
  Tensor out = Tensor::empty({2, 3}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::gelu_mul_forward(a, Tensor::zeros({3, 2}, DType::f32), out),
                       Contains("gelu_mul_forward"), Error);
  CHECK_THROWS_WITH_AS(kernels::gelu_mul_forward(a, a.to(DType::f64), out), Contains("gelu_mul_forward"), Error);
  CHECK_THROWS_WITH_AS(kernels::geglu_forward(odd, out), Contains("geglu_forward: the last dimension of f32[2, 5]"),
                       Error);
  CHECK_THROWS_WITH_AS(ag::geglu(odd), Contains("must be even"), Error);
  Tensor wrong = Tensor::empty({2, 2}, DType::f32);
  CHECK_THROWS_WITH_AS(kernels::geglu_forward(Tensor::zeros({2, 6}, DType::f32), wrong), Contains("geglu_forward"),
                       Error);
}

#else  // ---- GPU against the CPU (cuda_ops_tests) ----

TEST_CASE("gated GeLU: gelu_mul and geglu, forward and backward, f32 and bf16, odd and vector widths") {
  for_each_dtype_and_size(60, {5, 64, 1280}, [](DType dtype, std::int64_t M, RandomGenerator& rng) {
    const std::int64_t rows = 37;
    const Tensor x = random_cpu({rows, 2 * M}, dtype, rng, -3.0, 3.0), dy = random_cpu({rows, M}, dtype, rng);
    Tensor out_ref = Tensor::empty({rows, M}, DType::f64), dx_ref = Tensor::empty({rows, 2 * M}, DType::f64);
    kernels::geglu_forward(as_f64_cpu(x), out_ref);
    kernels::geglu_backward(as_f64_cpu(x), as_f64_cpu(dy), dx_ref);

    const Tensor xg = x.to(Device::cuda), dyg = dy.to(Device::cuda);
    Tensor out = poisoned_cuda({rows, M}, dtype), dx = poisoned_cuda({rows, 2 * M}, dtype);
    kernels::geglu_forward(xg, out);
    kernels::geglu_backward(xg, dyg, dx);
    check_close(out, out_ref, tolerance_for(dtype), "geglu");
    check_close(dx, dx_ref, tolerance_for(dtype), "geglu dx");

    // The same halves as two tensors.
    Tensor a = Tensor::empty({rows, M}, dtype, Device::cuda), b = Tensor::empty({rows, M}, dtype, Device::cuda);
    kernels::copy_columns(xg, 0, a, 0, M);
    kernels::copy_columns(xg, M, b, 0, M);
    Tensor pair = poisoned_cuda({rows, M}, dtype), da = poisoned_cuda({rows, M}, dtype);
    Tensor db = poisoned_cuda({rows, M}, dtype);
    kernels::gelu_mul_forward(a, b, pair);
    kernels::gelu_mul_backward(a, b, dyg, da, db);
    CHECK(same_bits(pair.to(Device::cpu), out.to(Device::cpu)));
    Tensor dx_a = Tensor::empty({rows, M}, dtype, Device::cuda), dx_b = Tensor::empty({rows, M}, dtype, Device::cuda);
    kernels::copy_columns(dx, 0, dx_a, 0, M);
    kernels::copy_columns(dx, M, dx_b, 0, M);
    CHECK(same_bits(da.to(Device::cpu), dx_a.to(Device::cpu)));
    CHECK(same_bits(db.to(Device::cpu), dx_b.to(Device::cpu)));
  });
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
