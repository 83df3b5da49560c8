#include "training/step_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/exit_codes.h"
#include "training/duration_text.h"
#include "training/model_flops.h"

namespace birdie::training {

StepLog::StepLog(Run& run) : run_(run), last_loss_(NAN) {}

int StepLog::record(const std::vector<StepResult>& results) {
  const RunConfig& c = run_.config;
  const double params = double(c.model.parameter_count());
  for (const StepResult& r : results) {
    const std::int64_t step = r.step;
    tokens_since_ += double(r.tokens);
    bad_streak_ = r.skipped ? bad_streak_ + 1 : 0;
    if (!r.skipped) last_loss_ = r.loss;
    if (r.skipped) {
      std::printf("step %lld: non-finite loss or gradient (loss %g, norm %g): skipped (%d in a row)\n",
                  (long long)step, r.loss, r.grad_norm, bad_streak_);
      run_.metrics->append(nlohmann::json{{"step", step}, {"skipped", true}}.dump());
      if (bad_streak_ >= c.max_bad_steps) {
        std::fprintf(stderr,
                     "pretrain: %d non-finite steps in a row at step %lld: stopping. The last checkpoint is "
                     "intact; lower optimizer.lr or raise optimizer.warmup_steps and --resume.\n",
                     bad_streak_, (long long)step);
        return exit_non_finite;
      }
    }
    if (!r.skipped && (step % c.log_every == 0 || step == run_.start_step + 1 || step == c.steps)) {
      const double now = clock_.seconds();
      const double tokens_per_s = tokens_since_ / std::max(1e-9, now - time_mark_);
      const double steps_done = double(step - run_.start_step);
      const double eta = now / steps_done * double(c.steps - step);
      char mfu[48] = "";
      if (c.device == "cuda")
        std::snprintf(mfu, sizeof mfu, "  MFU %.1f%%", 100.0 * model_flops_utilization(params, tokens_per_s));
      std::printf("step %lld/%lld  loss %.4f  lr %.2e  grad-norm %.3f  %.0f tokens/s%s  ETA %s\n", (long long)step,
                  (long long)c.steps, r.loss, r.lr, r.grad_norm, tokens_per_s, mfu, duration_text(eta).c_str());
      std::fflush(stdout);
      run_.metrics->append(nlohmann::json{{"step", step}, {"loss", r.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm},
                                          {"tokens_per_s", tokens_per_s}, {"elapsed_s", now}}
                               .dump());
      tokens_since_ = 0;
      time_mark_ = now;
    }
  }
  return 0;
}

}  // namespace birdie::training
