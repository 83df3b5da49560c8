#include "bandit/reward_driven_policy.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "bandit/candidate_mixtures.h"
#include "bandit/candidate_scoring.h"
#include "bandit/class_floor.h"
#include "bandit/evaluation_schedule.h"
#include "bandit/loss_observation.h"
#include "bandit/policy_state_json.h"
#include "bandit/reward.h"
#include "engine/nvtx.h"

namespace birdie::bandit {

namespace {
// Streams of the policy's seed: choices and the critic's initialization.
constexpr std::uint64_t choice_stream = 0xB1D0;
constexpr std::uint64_t critic_stream_salt = 0x9E3779B97F4A7C15ull;

const Tensor& find_tensor(const PolicyState& in, const std::string& name) {
  for (const auto& [key, tensor] : in.tensors)
    if (key == name) return tensor;
  throw Error("mixture policy state: tensor '" + name + "' is missing");
}
}  // namespace

RewardDrivenPolicy::RewardDrivenPolicy(const MixturePolicyConfig& config,
                                       const objectives::ObjectiveGrid& grid,
                                       std::int64_t total_steps, std::uint64_t seed)
    : config_(config),
      configs_(grid.configs),
      classes_(grid.indices_by_class()),
      n_(grid.configs.size()),
      total_steps_(total_steps),
      seed_(seed),
      steps_(config.evaluation_steps.empty() ? evaluation_schedule(total_steps) : config.evaluation_steps),
      uniform_until_(std::llround(config.uniform_fraction * double(total_steps))),
      uniform_(objectives::uniform_mixture(grid).weights),
      mixture_(uniform_),
      rng_(seed, choice_stream) {
  BIRDIE_CHECK(config.top_k >= 1 && config.uniform_candidates + config.sharpened_candidates >= 1,
               "mixture policy 'birdie': top_k (", config.top_k, ") and the candidate count (",
               config.uniform_candidates, " + ", config.sharpened_candidates, ") must be ≥ 1");
  check_class_floor(config.class_floor, classes_present(classes_), "objectives.class_floor",
                    "mixture policy 'birdie' on the grid " + (grid.source.empty() ? std::string("(built in code)") : grid.source));
  RewardCriticConfig critic{std::int64_t(n_), config.critic_width, config.critic_state, config.critic_layers};
  critic_ = std::make_unique<RewardCritic>(critic, seed ^ critic_stream_salt);
  trainer_ = std::make_unique<CriticTrainer>(*critic_, config.training);
}

Tensor RewardDrivenPolicy::history_tensor(const std::vector<std::vector<double>>& rows) const {
  Tensor t = Tensor::empty({std::int64_t(rows.size()), std::int64_t(n_)}, DType::f32);
  float* p = t.data<float>();
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t i = 0; i < n_; ++i) p[r * n_ + i] = static_cast<float>(rows[r][i]);
  return t;
}

void RewardDrivenPolicy::choose_with_critic(EvaluationRecord& record) {
  BIRDIE_NVTX_RANGE("critic.choose");
  Tensor candidates = draw_candidate_mixtures(std::int64_t(n_), config_.uniform_candidates,
                                              config_.sharpened_candidates, config_.sharpen_power, rng_);
  if (config_.class_floor > 0) {
    // The critic scores the mixtures that could really be used: the candidates with the
    // floor applied (then so is the mean of the top ones, up to rounding).
    float* rows = candidates.data<float>();
    std::vector<double> row(n_);
    for (std::int64_t c = 0; c < candidates.dim(0); ++c) {
      float* values = rows + c * std::int64_t(n_);
      for (std::size_t i = 0; i < n_; ++i) row[i] = values[i];
      row = apply_class_floor(row, classes_, config_.class_floor);
      for (std::size_t i = 0; i < n_; ++i) values[i] = static_cast<float>(row[i]);
    }
  }
  std::vector<float> current(last_losses_.begin(), last_losses_.end());
  const Tensor predicted = critic_->predict_next_row(
      history_tensor(history_losses_), history_tensor(history_actions_),
      Tensor::from_values<float>(current, {std::int64_t(n_)}), candidates, config_.scoring_chunk);
  const std::vector<double> scores = class_balanced_scores(predicted, classes_);
  try {
    const TopCandidates top = mean_of_top_candidates(candidates, scores, config_.top_k);
    mixture_ = top.mixture;
    record.predicted_score = top.mean_score;
    record.decision = "critic";
  } catch (const Error& e) {
    mixture_ = uniform_;
    record.decision = "critic";
    record.warnings.push_back(std::string("critic choice failed (") + e.what() +
                              "): the uniform mixture is used until the next evaluation");
  }
}

EvaluationRecord RewardDrivenPolicy::observe(std::int64_t step, const std::vector<double>& losses) {
  const auto start = std::chrono::steady_clock::now();
  check_observation(step, last_step_, total_steps_, losses.size(), n_);
  last_step_ = step;
  ++evaluations_;
  EvaluationRecord record;
  record.step = step;
  record.policy = config_.kind;
  record.losses = losses;
  const SanitizedLosses clean = sanitize_losses(losses, last_losses_, configs_);
  record.warnings = clean.warnings;
  if (!clean.usable) {
    record.decision = "unchanged";
  } else {
    if (!last_losses_.empty()) {
      record.rewards = interval_rewards(last_losses_, clean.losses);
      history_losses_.push_back(last_losses_);
      history_actions_.push_back(mixture_);
      history_rewards_.push_back(record.rewards);
    }
    last_losses_ = clean.losses;
    if (!history_losses_.empty()) {
      BIRDIE_NVTX_RANGE("critic.fit");
      const auto fit_start = std::chrono::steady_clock::now();
      const CriticFit fit = trainer_->fit(history_tensor(history_losses_), history_tensor(history_actions_),
                                          history_tensor(history_rewards_));
      record.critic_fit = fit;
      record.critic_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
      if (!std::isfinite(fit.last_mse))
        record.warnings.push_back("critic fit loss is not finite");
    }
    if (step < uniform_until_ || history_losses_.empty()) {
      mixture_ = uniform_;
      record.decision = "uniform_warmup";
    } else {
      record.exploration_probability = exploration_probability(step, total_steps_, config_.exploration);
      if (rng_.uniform() < record.exploration_probability) {
        mixture_ = exploration_mixture(classes_, n_, config_.exploration.other_class_mass, rng_,
                                       &record.explored_classes);
        record.explored = true;
        record.decision = "explore";
      } else {
        const auto scoring_start = std::chrono::steady_clock::now();
        choose_with_critic(record);
        record.scoring_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - scoring_start).count();
      }
    }
  }
  // The floor holds for every mixture handed out: the critic's choice, an exploration action
  // (a picked class keeps all the mass above the other classes' floors) and the uniform
  // warm-up (unchanged: a valid floor is at most the uniform share of a class).
  record.class_floor = config_.class_floor;
  mixture_ = apply_class_floor(mixture_, classes_, config_.class_floor, &record.floor_raised_classes);
  check_mixture(mixture_, n_, "the reward-driven policy's next mixture");
  record.mixture = mixture_;
  record.history_rows = std::int64_t(history_losses_.size());
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return record;
}

void RewardDrivenPolicy::save(PolicyState& out) const {
  nlohmann::json j;
  j["kind"] = config_.kind;
  j["configurations"] = n_;
  j["total_steps"] = total_steps_;
  j["seed"] = seed_;
  j["class_floor"] = config_.class_floor;
  j["mixture"] = mixture_;
  j["last_losses"] = last_losses_;
  j["last_step"] = last_step_;
  j["evaluations"] = evaluations_;
  j["history"] = {{"losses", history_losses_}, {"actions", history_actions_}, {"rewards", history_rewards_}};
  j["rng"] = {{"seed", rng_.state().seed}, {"stream", rng_.state().stream}, {"offset", rng_.state().offset}};
  j["optimizer_steps"] = trainer_->optimizer().steps_taken();
  out.json = j.dump();
  out.tensors.clear();
  out.tensors.emplace_back("critic.parameters", critic_->parameters().values().clone());
  out.tensors.emplace_back("critic.adamw.first_moment", trainer_->optimizer().first_moment().clone());
  out.tensors.emplace_back("critic.adamw.second_moment", trainer_->optimizer().second_moment().clone());
}

void RewardDrivenPolicy::restore(const PolicyState& in) {
  const nlohmann::json j = parse_policy_state_json(in);
  BIRDIE_CHECK(j.value("kind", std::string()) == config_.kind &&
                   j.value("configurations", std::size_t(0)) == n_ &&
                   j.value("total_steps", std::int64_t(0)) == total_steps_,
               "mixture policy state: saved for kind '", j.value("kind", std::string("?")), "' with ",
               j.value("configurations", std::size_t(0)), " configurations and ",
               j.value("total_steps", std::int64_t(0)), " steps, but this run has '", config_.kind,
               "', ", n_, " and ", total_steps_, ". Fix: resume with the same grid, policy and length");
  const double saved_floor = j.value("class_floor", 0.0);  // states from before the floor: none
  BIRDIE_CHECK(saved_floor == config_.class_floor, "mixture policy state: saved with objectives.class_floor = ",
               saved_floor, ", but this run has ", config_.class_floor,
               ". Fix: resume with the same objectives.class_floor");
  const auto set_tensor = [&](const std::string& name, const Tensor& target) {
    const Tensor& source = find_tensor(in, name);
    check_shape(source, target.shape(), name.c_str());
    target.copy_from(source.to(target.dtype()));
  };
  set_tensor("critic.parameters", critic_->parameters().values());
  set_tensor("critic.adamw.first_moment", trainer_->optimizer().first_moment());
  set_tensor("critic.adamw.second_moment", trainer_->optimizer().second_moment());
  trainer_->optimizer().set_steps_taken(j.at("optimizer_steps").get<std::int64_t>());
  mixture_ = j.at("mixture").get<std::vector<double>>();
  check_mixture(mixture_, n_, "the saved mixture");
  last_losses_ = j.at("last_losses").get<std::vector<double>>();
  last_step_ = j.at("last_step").get<std::int64_t>();
  evaluations_ = j.at("evaluations").get<std::int64_t>();
  history_losses_ = j.at("history").at("losses").get<std::vector<std::vector<double>>>();
  history_actions_ = j.at("history").at("actions").get<std::vector<std::vector<double>>>();
  history_rewards_ = j.at("history").at("rewards").get<std::vector<std::vector<double>>>();
  BIRDIE_CHECK(history_actions_.size() == history_losses_.size() &&
                   history_rewards_.size() == history_losses_.size(),
               "mixture policy state: history columns of different lengths");
  for (const auto* rows : {&history_losses_, &history_actions_, &history_rewards_})
    for (const auto& row : *rows)
      BIRDIE_CHECK(row.size() == n_, "mixture policy state: a history row of length ", row.size(),
                   " for ", n_, " configurations");
  const auto& r = j.at("rng");
  rng_ = RandomGenerator(RandomState{r.at("seed").get<std::uint64_t>(), r.at("stream").get<std::uint64_t>(),
                                     r.at("offset").get<std::uint64_t>()});
}

}  // namespace birdie::bandit
