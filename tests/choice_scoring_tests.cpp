// apps/common/choice_scoring: the rows a prompt and its choices become, and the per-choice
// losses against a brute-force computation from the model's logits on a tiny randomly
// initialized model.
#include <doctest/doctest.h>

#include <cmath>

#include "model/gated_ssm/gated_ssm_lm.h"
#include "apps/common/choice_scoring.h"
#include "autograd/tape.h"
#include "support/test_util.h"

using namespace birdie;

namespace {
constexpr std::int32_t sg = data::special_tokens::start_generating;

// Logits [T, V] (f64) of one sample prompt ‖ <sg> ‖ choice[0:M-1], unpadded.
std::vector<double> sample_logits(const model::GatedSsmLm& lm, const std::vector<std::int32_t>& prompt,
                                  const std::vector<std::int32_t>& choice) {
  std::vector<std::int32_t> tokens = prompt, reset(prompt.size(), 0);
  tokens.push_back(sg);
  reset.push_back(2);
  for (std::size_t j = 0; j + 1 < choice.size(); ++j) {
    tokens.push_back(choice[j]);
    reset.push_back(2);
  }
  reset[0] |= 1;
  const auto T = static_cast<std::int64_t>(tokens.size());
  autograd::NoGradGuard no_grad;
  return lm.logits(Tensor::from_values<std::int32_t>(tokens, {1, T}), Tensor::from_values<std::int32_t>(reset, {1, T}))
      .to_vector<double>();
}

// Σ −log softmax(logits at <sg> + j)[choice[j]], computed directly.
double brute_force_loss(const model::GatedSsmLm& lm, const std::vector<std::int32_t>& prompt,
                        const std::vector<std::int32_t>& choice) {
  const auto logits = sample_logits(lm, prompt, choice);
  const auto V = static_cast<std::size_t>(lm.config().vocab);
  double total = 0;
  for (std::size_t j = 0; j < choice.size(); ++j) {
    const double* row = logits.data() + (prompt.size() + j) * V;
    double top = row[0];
    for (std::size_t v = 1; v < V; ++v) top = std::max(top, row[v]);
    double z = 0;
    for (std::size_t v = 0; v < V; ++v) z += std::exp(row[v] - top);
    total += top + std::log(z) - row[static_cast<std::size_t>(choice[j])];
  }
  return total;
}

std::vector<std::int32_t> random_tokens(RandomGenerator& rng, std::size_t n, std::int32_t vocab) {
  std::vector<std::int32_t> out(n);
  for (auto& t : out) t = data::special_tokens::paradigm_next_token + std::int32_t(rng.uniform_int(std::uint64_t(vocab - 5)));
  return out;
}
}  // namespace

TEST_CASE("choice rows: one training-format row per choice, padded to the longest") {
  const std::vector<std::int32_t> prompt{5, 6, 7};
  const auto rows = apps::choice_rows(prompt, {{8, 9}, {10}});
  REQUIRE(rows.rows == 2);
  REQUIRE(rows.length == 5);
  CHECK(std::vector<std::int32_t>(rows.tokens.begin(), rows.tokens.begin() + 5) == std::vector<std::int32_t>{5, 6, 7, sg, 8});
  CHECK(std::vector<std::int32_t>(rows.targets.begin(), rows.targets.begin() + 5) ==
        std::vector<std::int32_t>{-1, -1, -1, 8, 9});
  CHECK(std::vector<std::int32_t>(rows.reset.begin(), rows.reset.begin() + 5) == std::vector<std::int32_t>{1, 0, 0, 2, 2});
  CHECK(std::vector<std::int32_t>(rows.tokens.begin() + 5, rows.tokens.end()) == std::vector<std::int32_t>{5, 6, 7, sg, 0});
  CHECK(std::vector<std::int32_t>(rows.targets.begin() + 5, rows.targets.end()) ==
        std::vector<std::int32_t>{-1, -1, -1, 10, -1});
  // The padding position starts its own segment (reset 1).
  CHECK(std::vector<std::int32_t>(rows.reset.begin() + 5, rows.reset.end()) == std::vector<std::int32_t>{1, 0, 0, 2, 1});
  CHECK_THROWS_AS(apps::choice_rows(prompt, {{8}, {}}), Error);
}

TEST_CASE("per-choice losses equal the cross-entropy computed from the logits of each sample alone") {
  for (auto layers : {model::BidirectionalLayers::alternate, model::BidirectionalLayers::all,
                      model::BidirectionalLayers::none}) {
    CAPTURE(int(layers));
    model::GatedSsmLm lm({40, 8, 10, 3, layers}, DType::f64, Device::cpu, 11);
    RandomGenerator rng(3);
    const auto prompt = random_tokens(rng, 9, 40);
    std::vector<std::vector<std::int32_t>> choices;
    for (std::size_t length : {1u, 4u, 2u, 6u}) choices.push_back(random_tokens(rng, length, 40));
    const auto losses = apps::score_choices(lm, prompt, choices);
    REQUIRE(losses.size() == choices.size());
    for (std::size_t c = 0; c < choices.size(); ++c) {
      CAPTURE(c);
      const double expected = brute_force_loss(lm, prompt, choices[c]);
      CHECK(losses[c].tokens == static_cast<std::int64_t>(choices[c].size()));
      CHECK(losses[c].sum == doctest::Approx(expected).epsilon(1e-10));
      CHECK(losses[c].mean() == doctest::Approx(expected / double(choices[c].size())).epsilon(1e-10));
      // Scoring a choice alone (no padding, no other rows) gives the same loss.
      CHECK(apps::score_choices(lm, prompt, {choices[c]})[0].sum == doctest::Approx(losses[c].sum).epsilon(1e-12));
    }
  }
}

TEST_CASE("the prompt's bidirectional prefix never sees the choice") {
  model::GatedSsmLm lm({40, 8, 10, 3, model::BidirectionalLayers::all}, DType::f64, Device::cpu, 5);
  RandomGenerator rng(9);
  const auto prompt = random_tokens(rng, 7, 40);
  const auto choice = random_tokens(rng, 5, 40);
  const std::size_t P = prompt.size(), V = 40;
  const auto before = sample_logits(lm, prompt, choice);
  auto changed_at = [&](const std::vector<double>& after, std::size_t t) {
    for (std::size_t v = 0; v < V; ++v)
      if (before[t * V + v] != after[t * V + v]) return true;
    return false;
  };
  // Change the choice's 2nd token (at position P + 2): the prompt, <sg> and the first
  // choice token keep their logits exactly; later positions change.
  auto other = choice;
  other[1] = other[1] == 20 ? 21 : 20;
  const auto after = sample_logits(lm, prompt, other);
  for (std::size_t t = 0; t <= P + 1; ++t) CHECK_MESSAGE(!changed_at(after, t), "position ", t);
  CHECK(changed_at(after, P + 2));
  // The control: the prompt's last token does reach earlier prompt positions (the prefix is
  // bidirectional), so the check above is not vacuous.
  auto prompt2 = prompt;
  prompt2[P - 1] = prompt2[P - 1] == 20 ? 21 : 20;
  const auto after_prompt = sample_logits(lm, prompt2, choice);
  CHECK(changed_at(after_prompt, 0));
}

TEST_CASE("argmin: the first smallest") {
  CHECK(apps::argmin({2.0, 1.0, 3.0}) == 1u);
  CHECK(apps::argmin({1.0, 1.0}) == 0u);
  CHECK_THROWS_AS(apps::argmin({}), Error);
}
