// kernels/sampling.h on the CPU: the sampling rule (greedy's first maximum, top-k's and
// top-p's kept sets, the distribution of draws), the random numbers (a row's draw is Philox
// block (seed, 0, counter), whatever the other rows), the generator's host path giving the
// same tokens, and the bookkeeping of batched generation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "kernels/sampling.h"
#include "model/generator.h"

using namespace birdie;

namespace {

// Sorted-order reference of the kept set: the top_k largest logits (ties: lower index
// first), then the smallest prefix of them whose softmax mass reaches top_p.
std::set<std::int32_t> kept_set(const std::vector<float>& logits, const kernels::SamplingRule& rule) {
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return logits[a] > logits[b]; });
  std::size_t keep = order.size();
  if (rule.top_k > 0) keep = std::min<std::size_t>(keep, rule.top_k);
  std::vector<double> p(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i) total += p[i] = std::exp((logits[order[i]] - logits[order[0]]) / rule.temperature);
  if (rule.top_p < 1) {
    double mass = 0;
    std::size_t n = 0;
    while (n < keep && mass < rule.top_p * total) mass += p[n++];
    keep = std::max<std::size_t>(n, 1);
  }
  return {order.begin(), order.begin() + keep};
}

std::int32_t draw(const std::vector<float>& logits, const kernels::SamplingRule& rule, std::uint64_t seed,
                  std::uint64_t counter) {
  return kernels::cpu::sample_row(logits.data(), static_cast<std::int64_t>(logits.size()), rule, seed, counter);
}

}  // namespace

TEST_CASE("greedy picks the first maximum and never a NaN") {
  const kernels::SamplingRule greedy;
  CHECK(draw({0.1f, 2.0f, -1.0f, 1.9f, 0.0f}, greedy, 1, 0) == 1);
  CHECK(draw({0.5f, 3.0f, 3.0f, -2.0f}, greedy, 1, 0) == 1);
  CHECK(draw({-5.0f, -1.0f, -1.0f}, greedy, 1, 0) == 1);
  CHECK(draw({NAN, -7.0f, NAN, -8.0f}, greedy, 1, 0) == 1);
  CHECK(draw({-INFINITY, -INFINITY, 0.0f}, greedy, 1, 0) == 2);
}

TEST_CASE("top-k and top-p draw only from their kept sets, and draw all of them") {
  RandomGenerator rng(3);
  std::vector<float> logits(40);
  for (auto& v : logits) v = static_cast<float>(std::round(rng.normal() * 4) / 4);  // ties on purpose
  for (kernels::SamplingRule rule : {kernels::SamplingRule{1.0, 1, 1.0}, kernels::SamplingRule{1.0, 5, 1.0},
                                     kernels::SamplingRule{2.0, 0, 0.5}, kernels::SamplingRule{1.0, 7, 0.8},
                                     kernels::SamplingRule{0.7, 0, 0.05}, kernels::SamplingRule{3.0, 60, 1.0}}) {
    CAPTURE(rule.temperature);
    CAPTURE(rule.top_k);
    CAPTURE(rule.top_p);
    const std::set<std::int32_t> kept = kept_set(logits, rule);
    std::set<std::int32_t> drawn;
    for (std::uint64_t counter = 0; counter < 3000; ++counter) drawn.insert(draw(logits, rule, 9, counter));
    CHECK(drawn == kept);
  }
}

TEST_CASE("draws follow softmax(logits / temperature)") {
  const std::vector<float> logits{1.0f, 0.0f, 2.0f, -1.0f, 0.5f};
  for (double temperature : {1.0, 0.5, 2.0}) {
    CAPTURE(temperature);
    std::vector<double> p(logits.size());
    double total = 0;
    for (std::size_t i = 0; i < p.size(); ++i) total += p[i] = std::exp(logits[i] / temperature);
    const int n = 40000;
    std::vector<int> counts(logits.size());
    for (int c = 0; c < n; ++c) ++counts[draw(logits, {temperature, 0, 1.0}, 17, c)];
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double expected = p[i] / total, sigma = std::sqrt(expected * (1 - expected) / n);
      CHECK(std::abs(double(counts[i]) / n - expected) < 5 * sigma);
    }
  }
}

TEST_CASE("sample_tokens: each row draws its own Philox block, the same token as alone, and advances its counter") {
  RandomGenerator rng(5);
  const std::int64_t B = 6, V = 50;
  Tensor logits = Tensor::empty({B, V}, DType::f32);
  fill_uniform(logits, rng, -3, 3);
  const std::vector<std::uint64_t> row_seeds{1, 2, 0xFFFFFFFF00000001ull, 4, 5, 1};
  std::vector<std::int32_t> words;
  for (std::uint64_t s : row_seeds) {
    words.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(s)));
    words.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(s >> 32)));
  }
  const Tensor seeds = Tensor::from_values<std::int32_t>(words, {B, 2});
  Tensor counters = Tensor::from_values<std::int32_t>({0, 3, 7, 1, 0, 0}, {B});
  Tensor tokens = Tensor::zeros({B}, DType::i32);
  const kernels::SamplingRule rule{0.8, 10, 0.9};
  kernels::sample_tokens(logits, rule, seeds, counters, tokens);
  const std::vector<std::int32_t> before{0, 3, 7, 1, 0, 0};
  for (std::int64_t b = 0; b < B; ++b) {
    CAPTURE(b);
    const std::vector<float> row = logits.slice(b, b + 1).to_vector<float>();
    CHECK(tokens.to_vector<std::int32_t>()[b] == draw(row, rule, row_seeds[b], before[b]));
    CHECK(counters.to_vector<std::int32_t>()[b] == before[b] + 1);
  }
  // Greedy draws nothing.
  kernels::sample_tokens(logits, kernels::SamplingRule{}, seeds, counters, tokens);
  CHECK(counters.to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 4, 8, 2, 1, 1});

  // bf16 logits sample as their f32 values.
  const Tensor bf16 = logits.to(DType::bf16);
  Tensor bf16_tokens = Tensor::zeros({B}, DType::i32), f32_tokens = Tensor::zeros({B}, DType::i32);
  Tensor c1 = Tensor::zeros({B}, DType::i32), c2 = Tensor::zeros({B}, DType::i32);
  kernels::sample_tokens(bf16, rule, seeds, c1, bf16_tokens);
  kernels::sample_tokens(bf16.to(DType::f32), rule, seeds, c2, f32_tokens);
  CHECK(bf16_tokens.to_vector<std::int32_t>() == f32_tokens.to_vector<std::int32_t>());
}

TEST_CASE("the host generator samples with the same numbers: sample_token at draw n is block n of its seed") {
  RandomGenerator rng(6);
  Tensor logits = Tensor::empty({30}, DType::f32);
  fill_uniform(logits, rng, -2, 2);
  const std::vector<float> values = logits.to_vector<float>();
  model::SamplingOptions options;
  options.temperature = 1.3;
  options.top_k = 12;
  options.top_p = 0.95;
  RandomGenerator sampler(77);
  for (std::uint64_t n = 0; n < 20; ++n) CHECK(model::sample_token(logits, options, sampler) == draw(values, options.rule(), 77, n));
  CHECK(sampler.state().offset == 20);
  options.temperature = 0;
  CHECK(model::sample_token(logits, options, sampler) == draw(values, {}, 0, 0));
  CHECK(sampler.state().offset == 20);  // greedy draws nothing
}

TEST_CASE("record_tokens: each row stops on its own at a stop token or when full, and writes nothing after") {
  const std::int64_t B = 3, M = 4;
  Tensor out = Tensor::full({B, M}, -9, DType::i32);
  Tensor counts = Tensor::zeros({B}, DType::i32), done = Tensor::zeros({B}, DType::i32);
  const std::int32_t eos = 3, stop = 8;
  const std::vector<std::vector<std::int32_t>> steps{{5, 6, 7}, {3, 8, 7}, {5, 6, 7}, {9, 6, 8}, {1, 1, 1}};
  for (const auto& step : steps)
    kernels::record_tokens(Tensor::from_values<std::int32_t>(step, {B}), eos, stop, out, counts, done);
  CHECK(out.to_vector<std::int32_t>() ==
        std::vector<std::int32_t>{5, 3, -9, -9, /**/ 6, 8, -9, -9, /**/ 7, 7, 7, 8});
  CHECK(counts.to_vector<std::int32_t>() == std::vector<std::int32_t>{2, 2, 4});
  CHECK(done.to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 1, 1});
  Tensor full = Tensor::zeros({1, 2}, DType::i32), n = Tensor::zeros({1}, DType::i32), d = Tensor::zeros({1}, DType::i32);
  for (int i = 0; i < 3; ++i) kernels::record_tokens(Tensor::from_values<std::int32_t>({5}, {1}), eos, -1, full, n, d);
  CHECK(n.to_vector<std::int32_t>()[0] == 2);
  CHECK(d.to_vector<std::int32_t>()[0] == 1);
}

TEST_CASE("sample_tokens names what is wrong") {
  Tensor logits = Tensor::zeros({2, 5}, DType::f32), counters = Tensor::zeros({2}, DType::i32);
  Tensor tokens = Tensor::zeros({2}, DType::i32);
  const Tensor seeds = Tensor::zeros({2, 2}, DType::i32);
  CHECK_THROWS_WITH_AS(kernels::sample_tokens(logits, {1.0, 0, 0.0}, seeds, counters, tokens),
                       doctest::Contains("top_p must be in (0, 1]"), Error);
  CHECK_THROWS_WITH_AS(kernels::sample_tokens(logits, {1.0, -1, 1.0}, seeds, counters, tokens),
                       doctest::Contains("top_k"), Error);
  CHECK_THROWS_WITH_AS(kernels::sample_tokens(logits, {1.0, 0, 1.0}, Tensor::zeros({2}, DType::i32), counters, tokens),
                       doctest::Contains("seeds"), Error);
}
