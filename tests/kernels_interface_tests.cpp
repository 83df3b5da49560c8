// CPU behaviour of the kernels-level functions that came with the CUDA backend. These are
// the references of tests/cuda_*_tests.cpp, so they are checked here by hand-computed
// values and by composition from the older kernels.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/random.h"
#include "kernels/adamw.h"
#include "kernels/convert.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"
#include "kernels/random.h"
#include "kernels/rmsnorm.h"

namespace birdie::testing {

TEST_CASE("matmul_fused on the CPU: bias added to every row, beta accumulation") {
  const Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor b = Tensor::from_values<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  const Tensor bias = Tensor::from_values<double>({10, 20}, {2});
  Tensor c = Tensor::from_values<double>({1, 1, 1, 1}, {2, 2});
  kernels::matmul_fused(a, false, b, false, c, {bias, {}}, 2.0, 1.0);
  // a·b = [[4, 5], [10, 11]]; 2·ab + c + bias.
  CHECK(c.to_vector<double>() == std::vector<double>{19, 31, 31, 43});
}

TEST_CASE("matmul_fused on the CPU: the bias gradient is the row sum of op(A)") {
  const Tensor a = Tensor::from_values<double>({1, 2, 3, 4, 5, 6}, {2, 3});  // [M=2, K=3]
  const Tensor b = Tensor::from_values<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor c = Tensor::empty({2, 2}, DType::f64), g = Tensor::empty({2}, DType::f64);
  kernels::matmul_fused(a, false, b, false, c, {{}, g});
  CHECK(g.to_vector<double>() == std::vector<double>{6, 15});
  CHECK(c.to_vector<double>() == std::vector<double>{4, 5, 10, 11});
  const Tensor at = Tensor::from_values<double>({1, 4, 2, 5, 3, 6}, {3, 2});  // Aᵀ stored
  Tensor g2 = Tensor::empty({2}, DType::f64);
  kernels::matmul_fused(at, true, b, false, c, {{}, g2});
  CHECK(g2.to_vector<double>() == std::vector<double>{6, 15});
  CHECK(c.to_vector<double>() == std::vector<double>{4, 5, 10, 11});
}

TEST_CASE("matmul keeps rejecting mixed dtypes on the CPU") {
  const Tensor a = Tensor::full({2, 2}, 1.0, DType::f32);
  Tensor c64 = Tensor::empty({2, 2}, DType::f64);
  CHECK_THROWS_AS(kernels::matmul(a, false, a, false, c64), Error);
  // (bf16 operands into f32 C are accepted, as on the GPU: tests/kernels_bf16_tests.cpp.)
}

TEST_CASE("convert: f32 to bf16 rounds to nearest even, and back exactly") {
  const Tensor x = Tensor::from_values<float>({1.0f + 1.0f / 256.0f, 1.0f + 3.0f / 256.0f, -2.5f,
                                               std::numeric_limits<float>::quiet_NaN()}, {4});
  Tensor h = Tensor::empty({4}, DType::bf16);
  kernels::convert(x, h);
  const auto* bits = h.data<bfloat16>();
  CHECK(bits[0].to_float() == 1.0f);                 // tie → even
  CHECK(bits[1].to_float() == 1.0f + 4.0f / 256.0f);  // tie → even (up)
  CHECK(bits[2].to_float() == -2.5f);
  CHECK(std::isnan(bits[3].to_float()));
  const Tensor back = kernels::to_dtype(h, DType::f32);
  CHECK(back.to_vector<float>()[2] == -2.5f);
  CHECK_THROWS_AS(kernels::to_dtype(Tensor::full({2}, 1.0, DType::i32), DType::f32), Error);
}

TEST_CASE("kernels::fill_uniform on the CPU is the engine's fill") {
  RandomGenerator a(9, 1), b(9, 1);
  Tensor x = Tensor::empty({13}, DType::f32), y = Tensor::empty({13}, DType::f32);
  fill_uniform(x, a, -1, 3);
  kernels::fill_uniform(y, b, -1, 3);
  CHECK(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0);
  CHECK(a.state() == b.state());
}

TEST_CASE("adamw_step writes the bf16 compute copy of the new parameters") {
  RandomGenerator rng(11);
  const std::int64_t n = 100;
  Tensor p = Tensor::empty({n}, DType::f32), g = Tensor::empty({n}, DType::f32);
  fill_uniform(p, rng, -1, 1);
  fill_uniform(g, rng, -1, 1);
  Tensor m = Tensor::zeros({n}, DType::f32), v = Tensor::zeros({n}, DType::f32);
  Tensor p2 = p.clone(), m2 = m.clone(), v2 = v.clone();
  const std::vector<kernels::DecaySegment> segments{{0, 60, true}, {60, 40, false}};
  const kernels::AdamWHyper hyper{1e-2, 0.9, 0.95, 1e-8, 0.1, 1};
  Tensor copy = Tensor::empty({n}, DType::bf16);
  kernels::adamw_step(p, g, m, v, segments, hyper, &copy);
  kernels::adamw_step(p2, g, m2, v2, segments, hyper);
  CHECK(p.to_vector<float>() == p2.to_vector<float>());  // the copy changes nothing else
  const auto values = p.to_vector<float>();
  const auto* bits = copy.data<bfloat16>();
  for (std::int64_t i = 0; i < n; ++i) CHECK(bits[i].bits == bfloat16::from_float(values[i]).bits);
  Tensor wrong = Tensor::empty({n}, DType::f32);
  CHECK_THROWS_AS(kernels::adamw_step(p, g, m, v, segments, hyper, &wrong), Error);
}

}  // namespace birdie::testing
