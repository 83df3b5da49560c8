// Finite-difference gradient checks in f64 for every differentiable op: random inputs,
// several shapes including odd sizes. Each loss weights every output element differently
// (testing::weighted_sum), so a wrong gradient for any element shows.
#include <doctest/doctest.h>

#include <cmath>

#include "kernels/cross_entropy.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::testing;
namespace ag = birdie::autograd;
using Inputs = std::vector<Tensor>;

TEST_CASE("gradient: matmul, all transposes, rank 2 and batched") {
  RandomGenerator rng(10);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool batched : {false, true}) {
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(batched);
        const std::int64_t M = 3, N = 5, K = 4;
        Shape sa = ta ? Shape{K, M} : Shape{M, K}, sb = tb ? Shape{N, K} : Shape{K, N};
        if (batched) {
          sa.insert(sa.begin(), 2);
          sb.insert(sb.begin(), 2);
        }
        check_gradients([&](const Inputs& in) { return weighted_sum(ag::matmul(in[0], in[1], ta, tb)); },
                        {random_tensor(sa, rng), random_tensor(sb, rng)});
      }
}

TEST_CASE("gradient: linear with and without bias, 3-D input") {
  RandomGenerator rng(11);
  check_gradients([](const Inputs& in) { return weighted_sum(ag::linear(in[0], in[1], in[2])); },
                  {random_tensor({2, 3, 5}, rng), random_tensor({7, 5}, rng), random_tensor({7}, rng)});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::linear(in[0], in[1])); },
                  {random_tensor({1, 4}, rng), random_tensor({3, 4}, rng)});
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

TEST_CASE("gradient: embedding with repeated ids") {
  RandomGenerator rng(15);
  Tensor ids = Tensor::from_values<std::int32_t>({3, 1, 3, 0, 3, 2}, {2, 3});
  check_gradients([](const Inputs& in) { return weighted_sum(ag::embedding(in[0], in[1])); },
                  {random_tensor({5, 4}, rng), ids});
}

TEST_CASE("gradient: cross-entropy with ignored targets, and scaled upstream") {
  RandomGenerator rng(16);
  Tensor targets = Tensor::from_values<std::int32_t>({2, kernels::ignore_index, 0, 6, kernels::ignore_index}, {5});
  check_gradients([](const Inputs& in) { return ag::cross_entropy(in[0], in[1]).loss; },
                  {random_tensor({5, 7}, rng, -2, 2), targets});
  check_gradients([](const Inputs& in) { return ag::scale(ag::cross_entropy(in[0], in[1]).loss, 3.0); },
                  {random_tensor({5, 7}, rng, -2, 2), targets});
}

namespace {
// Pre-activations for the scan. forget_logit shifts the forget gates: σ(6.9) ≈ 0.999 keeps
// state nearly forever, σ(-9) ≈ 0.0001 forgets at once.
Tensor scan_proj(RandomGenerator& rng, std::int64_t B, std::int64_t T, std::int64_t N,
                 double forget_logit) {
  Tensor p = random_tensor({B, T, 4 * N}, rng, -1.5, 1.5);
  double* v = p.data<double>();
  for (std::int64_t r = 0; r < B * T; ++r)
    for (std::int64_t c = 0; c < N; ++c) v[r * 4 * N + N + c] += forget_logit;
  return p;
}
}  // namespace

TEST_CASE("gradient: gated scan, both directions, resets mid-row, gates near 1 and near 0") {
  RandomGenerator rng(17);
  struct Case {
    std::int64_t B, T, N;
    std::vector<std::int32_t> reset;
  };
  const std::vector<Case> cases{
      {1, 1, 2, {3}},
      {1, 7, 2, {1, 0, 0, 2, 2, 2, 2}},
      // Two samples in a row, the second with an empty prompt (reset 3), then padding.
      {2, 9, 6, {1, 0, 2, 2, 3, 2, 2, 1, 0, /* row 2 */ 1, 0, 0, 0, 0, 2, 2, 2, 2}},
      {1, 11, 10, {1, 0, 0, 0, 2, 2, 1, 0, 2, 2, 2}},
  };
  for (const Case& c : cases)
    for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional})
      for (double forget_logit : {0.0, 6.9, -9.0}) {
        CAPTURE(c.T);
        CAPTURE(c.N);
        CAPTURE(int(direction));
        CAPTURE(forget_logit);
        Tensor reset = Tensor::from_values<std::int32_t>(c.reset, {c.B, c.T});
        check_gradients(
            [&](const Inputs& in) { return weighted_sum(ag::gated_scan(in[0], in[1], direction)); },
            {scan_proj(rng, c.B, c.T, c.N, forget_logit), reset});
      }
}

TEST_CASE("gradient: a composite block — rmsnorm → linear → scan → linear → residual") {
  RandomGenerator rng(18);
  const std::int64_t B = 2, T = 5, D = 3, N = 4;
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 2, 2, 2, 1, 2, 2, 1, 0}, {B, T});
  check_gradients(
      [&](const Inputs& in) {
        Tensor u = ag::rmsnorm(in[0], in[1]);
        Tensor proj = ag::linear(u, in[2], in[3]);
        Tensor y = ag::gated_scan(proj, in[5], kernels::ScanDirection::bidirectional);
        return weighted_sum(ag::add(in[0], ag::linear(y, in[4])));
      },
      {random_tensor({B, T, D}, rng), random_tensor({D}, rng, 0.5, 1.5),
       random_tensor({4 * N, D}, rng), random_tensor({4 * N}, rng), random_tensor({D, N}, rng),
       reset});
}
