// The mixture policy: what the training loop asks for the mixture to sample objectives
// from, and tells at every evaluation. Every run goes through this one interface, whether
// the mixture is reward-driven ("birdie", docs/method.md §4) or fixed ("ntp", "ul2", "uniform",
// "fixed" user weights; evaluations still happen and are logged, the mixture never moves).
//
// How a training loop uses it (apps/pretrain):
//     auto policy = bandit::make_mixture_policy(config, grid, total_steps, seed);
//     // validation sets: one per policy->configurations()[i]
//     objectives::Mixture mixture = bandit::current_objective_mixture(*policy);
//     for step = 1..total:
//       train one step, drawing each sample's configuration from `mixture`
//       if step is in policy->evaluation_steps():
//         L[i] = mean validation CE of configuration i          (i < configurations().size())
//         EvaluationRecord r = policy->observe(step, L);
//         log << bandit::to_json_line(r, policy->configurations()) << '\n';
//         mixture = bandit::current_objective_mixture(*policy);  // held until the next one
// Checkpoints: bandit::save_policy(*policy, training_state) before save_checkpoint, and
// bandit::restore_policy(*policy, training_state) after load_checkpoint (policy_checkpoint.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bandit/critic_trainer.h"
#include "bandit/exploration.h"
#include "bandit/reward_critic.h"
#include "model/safetensors.h"
#include "objectives/mixture.h"
#include "objectives/objective_grid.h"

namespace birdie::bandit {

struct MixturePolicyConfig {
  // "birdie" (reward-driven), "ntp", "ul2", "uniform" (objectives/mixture.h), or "fixed":
  // user weights over the grid, from `weights` (one per grid configuration, finite, ≥ 0,
  // summing to 1 within 1e-6) or from `weights_file` (objectives::load_mixture_weights).
  std::string kind = "birdie";
  std::vector<double> weights;
  std::string weights_file;

  // Evaluation steps; empty: evaluation_schedule(total_steps) (evaluation_schedule.h).
  std::vector<std::int64_t> evaluation_steps;

  // Reward-driven policy only ------------------------------------------------------------
  // The mixture stays uniform (objectives::uniform_mixture) at evaluations before
  // round(uniform_fraction · total_steps); those evaluations seed the critic's history.
  double uniform_fraction = 250.0 / 32000.0;
  std::int64_t uniform_candidates = 4096;
  std::int64_t sharpened_candidates = 4096;
  double sharpen_power = 4.0;
  std::size_t top_k = 8;
  std::int64_t scoring_chunk = 2048;  // candidates stepped per batch
  // Critic shape (configurations is filled in from the grid) and its retraining.
  std::int64_t critic_width = 256;
  std::int64_t critic_state = 512;
  std::int64_t critic_layers = 4;
  CriticTrainingConfig training;
  ExplorationSchedule exploration;
  // Every class present in the grid gets at least this share of every mixture the policy
  // hands out (class_floor.h); 0: no floor (the reference procedure). Validated against
  // the grid: 0 ≤ class_floor and class_floor × classes ≤ 1.
  double class_floor = 0;
};

// What one evaluation decided, for the log (to_json_line, evaluation_record.h).
struct EvaluationRecord {
  std::int64_t step = 0;
  std::string policy;           // the config's kind
  std::vector<double> losses;   // as given (non-finite values kept, logged as null)
  std::vector<double> rewards;  // of the interval that ended here; empty at the first one
  std::vector<double> mixture;  // the mixture to train with from here on
  // "uniform_warmup", "explore", "critic", "fixed", or "unchanged" (the evaluation was
  // unusable, see warnings).
  std::string decision;
  bool explored = false;
  std::vector<std::size_t> explored_classes;  // ObjectiveClass values picked
  double class_floor = 0;                      // the policy's floor (0: none)
  std::vector<std::size_t> floor_raised_classes;  // ObjectiveClass values the floor raised
  double exploration_probability = 0;
  std::optional<CriticFit> critic_fit;  // when the critic was retrained
  double predicted_score = 0;           // mean class-balanced score of the top candidates
  std::int64_t history_rows = 0;        // critic history after this evaluation
  std::vector<std::string> warnings;    // safe fallbacks taken (non-finite losses, ...)
  double seconds = 0;                   // wall time spent in observe()
  // Where observe()'s time went (the rest: sanitizing, drawing candidates, bookkeeping),
  // and, filled in by the training loop, the validation losses before it and how long
  // training waited for a policy running beside it.
  double critic_seconds = 0;   // retraining the critic
  double scoring_seconds = 0;  // scoring the candidates
  double validation_seconds = 0;
  double wait_seconds = 0;
};

// A policy's saved form: JSON text (history, mixture, RNG, counters) and named tensors
// (critic weights and AdamW moments), both restored bitwise.
struct PolicyState {
  std::string json;
  model::NamedTensors tensors;
};

class MixturePolicy {
 public:
  virtual ~MixturePolicy() = default;
  // The configurations the weights and the losses refer to, in order: the grid's for
  // "birdie", "uniform" and "fixed", the mixture's own for "ntp" and "ul2".
  virtual const std::vector<objectives::ObjectiveConfig>& configurations() const = 0;
  // Weights per configuration, non-negative, summing to 1.
  virtual std::vector<double> current_mixture() const = 0;
  virtual const std::vector<std::int64_t>& evaluation_steps() const = 0;
  // Called at each evaluation step (strictly increasing, 1 ≤ step ≤ total_steps) with the
  // per-configuration validation losses; returns the record to log. Afterwards
  // current_mixture() is the mixture to train with until the next evaluation. A wrong
  // length or step throws; non-finite losses are handled safely and named in the record.
  virtual EvaluationRecord observe(std::int64_t step, const std::vector<double>& losses) = 0;
  virtual void save(PolicyState& out) const = 0;
  // Throws when the state belongs to another kind, grid size or run length.
  virtual void restore(const PolicyState& in) = 0;
};

// Throws on an unknown kind, an empty grid, bad fixed weights or total_steps < 1.
std::unique_ptr<MixturePolicy> make_mixture_policy(const MixturePolicyConfig& config,
                                                   const objectives::ObjectiveGrid& grid,
                                                   std::int64_t total_steps, std::uint64_t seed);

// The policy's current mixture as an objectives::Mixture (for drawing samples).
objectives::Mixture current_objective_mixture(const MixturePolicy& policy);

// Throws unless `weights` has `n` finite non-negative entries summing to 1 within
// `tolerance`; `what` names the mixture in the message.
void check_mixture(const std::vector<double>& weights, std::size_t n, const std::string& what,
                   double tolerance = 1e-6);

}  // namespace birdie::bandit
