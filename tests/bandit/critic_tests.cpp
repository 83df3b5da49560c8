#include <doctest/doctest.h>

#include "autograd/tape.h"
#include "bandit/candidate_mixtures.h"
#include "bandit/critic_trainer.h"
#include "bandit/reward_critic.h"
#include "support/test_util.h"

using namespace birdie;
using namespace birdie::bandit;

namespace {

Tensor random_rows(std::int64_t rows, std::int64_t n, RandomGenerator& rng, double low, double high) {
  return testing::random_tensor({rows, n}, rng, low, high, DType::f32);
}

// [a; b] along rows.
Tensor stack_rows(const Tensor& a, const Tensor& b) {
  const std::int64_t n = a.dim(1);
  Tensor out = Tensor::empty({a.dim(0) + b.dim(0), n}, DType::f32);
  out.slice(0, a.dim(0)).copy_from(a);
  out.slice(a.dim(0), a.dim(0) + b.dim(0)).copy_from(b);
  return out;
}

Tensor row_of(const Tensor& t, std::int64_t r) { return t.slice(r, r + 1).clone(); }

// Rows that are mixtures (Dirichlet(1) points), as the critic's action half is.
Tensor candidate_mixture_rows(std::int64_t rows, std::int64_t n, RandomGenerator& rng) {
  return draw_candidate_mixtures(n, rows, 0, 4.0, rng);
}

}  // namespace

TEST_CASE("critic: causal over the evaluation index") {
  const std::int64_t n = 6, T = 5;
  RewardCritic critic({n, 32, 64, 2}, 1);
  RandomGenerator rng(2);
  const Tensor losses = random_rows(T, n, rng, 1, 5), actions = candidate_mixture_rows(T, n, rng);
  autograd::NoGradGuard no_grad;
  const Tensor before = critic.forward(losses, actions);
  Tensor changed_losses = losses.clone(), changed_actions = actions.clone();
  changed_losses.data<float>()[3 * n + 1] += 1.0f;  // change row 3 only
  changed_actions.data<float>()[3 * n + 2] += 0.3f;
  const Tensor after = critic.forward(changed_losses, changed_actions);
  CHECK(testing::max_abs_difference(before.slice(0, 3), after.slice(0, 3)) == 0.0);
  CHECK(testing::max_abs_difference(before.slice(3, 4), after.slice(3, 4)) > 1e-6);
  CHECK(testing::max_abs_difference(before.slice(4, 5), after.slice(4, 5)) > 1e-6);
}

TEST_CASE("critic scoring: shared history state + last row equals a full run, read at the candidate's row") {
  // The §4 critic shape (width 256, state 512, 4 blocks) and a critic moved away from its
  // initialization, so every block matters.
  const std::int64_t n = 9, H = 6, C = 5;
  RewardCritic critic({n, 256, 512, 4}, 3);
  RandomGenerator rng(4);
  const Tensor losses = random_rows(H, n, rng, 1, 5), actions = candidate_mixture_rows(H, n, rng);
  {
    CriticTrainingConfig training;
    training.iterations = 20;
    CriticTrainer trainer(critic, training);
    trainer.fit(losses, actions, random_rows(H, n, rng, -1, 1));
  }
  const Tensor current = random_rows(1, n, rng, 1, 5).reshape({n});
  const Tensor candidates = candidate_mixture_rows(C, n, rng);
  const Tensor batched = critic.predict_next_row(losses, actions, current, candidates, /*chunk=*/2);
  REQUIRE(batched.shape() == Shape{C, n});

  autograd::NoGradGuard no_grad;
  const Tensor history_only = critic.forward(losses, actions);
  for (std::int64_t c = 0; c < C; ++c) {
    CAPTURE(c);
    const Tensor full = critic.forward(stack_rows(losses, current.reshape({1, n})),
                                       stack_rows(actions, row_of(candidates, c)));
    const Tensor expected = full.slice(H, H + 1).reshape({n});
    const Tensor got = batched.slice(c, c + 1).reshape({n});
    CHECK(testing::relative_error(got, expected) < 1e-5);
    // Any other row of the full run (the history's rows) is something else.
    for (std::int64_t r = 0; r < H; ++r)
      CHECK(testing::max_abs_difference(got, full.slice(r, r + 1).reshape({n})) > 1e-4);
    CHECK(testing::max_abs_difference(got, history_only.slice(H - 1, H).reshape({n})) > 1e-4);
  }
  // A candidate scored alone gets the same prediction as inside the batch.
  const Tensor alone = critic.predict_next_row(losses, actions, current, row_of(candidates, 3));
  CHECK(testing::max_abs_difference(alone.reshape({n}), batched.slice(3, 4).reshape({n})) < 1e-6);
}

TEST_CASE("critic scoring: only the candidate row distinguishes candidates") {
  const std::int64_t n = 5, H = 4;
  RewardCritic critic({n, 32, 64, 2}, 5);
  RandomGenerator rng(6);
  const Tensor losses = random_rows(H, n, rng, 1, 5), actions = candidate_mixture_rows(H, n, rng);
  const Tensor current = random_rows(1, n, rng, 1, 5).reshape({n});
  // Two identical candidates and a different one: equal predictions exactly where the
  // candidates are equal, so the prediction is a function of the candidate's own row.
  std::vector<float> rows = {0.6f, 0.1f, 0.1f, 0.1f, 0.1f, 0.6f, 0.1f, 0.1f, 0.1f, 0.1f,
                             0.1f, 0.1f, 0.1f, 0.1f, 0.6f};
  const Tensor candidates = Tensor::from_values<float>(rows, {3, n});
  const Tensor predicted = critic.predict_next_row(losses, actions, current, candidates);
  CHECK(testing::max_abs_difference(predicted.slice(0, 1), predicted.slice(1, 2)) == 0.0);
  CHECK(testing::max_abs_difference(predicted.slice(0, 1), predicted.slice(2, 3)) > 1e-5);
  // The history matters too (the shared state is used): another history, another prediction.
  const Tensor other = critic.predict_next_row(losses.slice(0, 2), actions.slice(0, 2), current, candidates);
  CHECK(testing::max_abs_difference(other, predicted) > 1e-5);
}

TEST_CASE("critic training: the §4 triangle and a falling MSE") {
  CriticTrainingConfig config;
  CHECK(triangular_learning_rate(0, config) == doctest::Approx(5e-7));
  CHECK(triangular_learning_rate(100, config) == doctest::Approx(5e-4));
  CHECK(triangular_learning_rate(50, config) == doctest::Approx((5e-7 + 5e-4) / 2));
  CHECK(triangular_learning_rate(150, config) == doctest::Approx((5e-7 + 5e-4) / 2));
  CHECK(triangular_learning_rate(199, config) == doctest::Approx(5e-7 + (5e-4 - 5e-7) / 100));

  const std::int64_t n = 6, H = 8;
  RewardCritic critic({n, 64, 128, 2}, 7);
  CriticTrainer trainer(critic, config);
  RandomGenerator rng(8);
  const Tensor losses = random_rows(H, n, rng, 1, 5), actions = candidate_mixture_rows(H, n, rng);
  // Rewards that depend on the action: r = 2·a - 1/n per configuration.
  Tensor rewards = actions.clone();
  for (std::int64_t i = 0; i < rewards.numel(); ++i)
    rewards.data<float>()[i] = 2.0f * actions.data<float>()[i] - 1.0f / n;
  const CriticFit first = trainer.fit(losses, actions, rewards);
  CHECK(first.iterations == 200);
  CHECK(first.skipped_steps == 0);
  CHECK(first.last_mse < first.first_mse);
  const CriticFit second = trainer.fit(losses, actions, rewards);
  // The same network is retrained: the second fit starts where the first ended.
  CHECK(second.first_mse < first.first_mse * 0.01);
  CHECK(second.first_mse == doctest::Approx(first.last_mse).epsilon(0.5));
  CHECK(trainer.optimizer().steps_taken() == 400);
  CHECK(trainer.mean_squared_error(losses, actions, rewards) < first.first_mse * 0.5);
}
