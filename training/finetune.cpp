#include "training/finetune.h"

#include <algorithm>
#include <cstdio>

#include "training/trainer.h"
#include "engine/timer.h"
#include "model/generator.h"

namespace birdie::training {

std::vector<data::Token> greedy_answer(const model::LanguageModel& lm, std::span<const data::Token> prompt,
                                       std::int64_t max_new_tokens) {
  model::SamplingOptions greedy;
  greedy.eos = data::special_tokens::eos;
  greedy.max_new_tokens = max_new_tokens;
  auto out = model::generate(lm, prompt, data::special_tokens::start_generating, greedy);
  if (!out.empty() && out.back() == greedy.eos) out.pop_back();
  return out;
}

std::vector<CurvePoint> finetune(model::LanguageModel& lm, const FinetuneOptions& options,
                                 const std::function<objectives::PackedBatch(int step)>& batch,
                                 const std::function<double()>& curve_accuracy, const std::string& label) {
  std::vector<CurvePoint> curve;
  if (options.steps <= 0) return curve;
  Trainer trainer(lm, autograd::AdamWConfig{0.9, 0.95, 1e-8, options.weight_decay, 1.0});
  Stopwatch clock;
  auto measure = [&](int step, double loss) {
    curve.push_back({step, loss, curve_accuracy()});
    std::printf("%s %d/%d  held-out accuracy %.3f\n", label.c_str(), step, options.steps,
                curve.back().accuracy);
  };
  if (options.eval_every > 0) measure(0, 0.0);
  const double warmup_steps = std::max(1.0, options.warmup_fraction * options.steps);
  for (int step = 1; step <= options.steps; ++step) {
    const objectives::PackedBatch rows = batch(step);
    const double lr = options.lr * std::min(1.0, step / warmup_steps);
    trainer.step(step, std::span(&rows, 1), lr);
    const bool last = step == options.steps;
    const bool logged = (options.log_every > 0 && step % options.log_every == 0) || last;
    const bool measured = options.eval_every > 0 && (step % options.eval_every == 0 || last);
    // The step's loss is read only where it is printed (a wait for the device there).
    const std::vector<StepResult> done = trainer.finished_steps(logged || measured);
    if (!logged && !measured) continue;
    const StepResult& r = done.back();
    if (logged) {
      const double seconds = clock.seconds();
      std::printf("%s %d/%d  loss %.4f  %lld tokens  %.1f s, ETA %.0f s\n", label.c_str(), step, options.steps,
                  r.loss, static_cast<long long>(r.counted), seconds, seconds / step * (options.steps - step));
    }
    if (measured) measure(step, r.loss);
  }
  return curve;
}

}  // namespace birdie::training
