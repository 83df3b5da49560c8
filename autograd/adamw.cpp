#include "autograd/adamw.h"

#include <cmath>

#include "engine/error.h"
#include "engine/nvtx.h"
#include "kernels/reduce.h"

namespace birdie::autograd {

namespace {

distributed::Range shard_for(const ParameterSet& parameters, bool shard_state) {
  const distributed::World& world = distributed::world();
  return shard_state ? distributed::shard_of(parameters.count(), world.rank, world.size)
                     : distributed::Range{0, parameters.count()};
}

// The decay segments that fall in the shard, with offsets from its start.
std::vector<kernels::DecaySegment> clip_segments(const std::vector<kernels::DecaySegment>& all,
                                                 distributed::Range shard) {
  std::vector<kernels::DecaySegment> out;
  for (const auto& s : all) {
    const std::int64_t begin = std::max(s.offset, shard.begin), end = std::min(s.offset + s.length, shard.end);
    if (begin < end) out.push_back({begin - shard.begin, end - begin, s.decay});
  }
  return out;
}

Tensor part(const Tensor& flat, distributed::Range range) { return flat.slice(range.begin, range.end); }

}  // namespace

AdamW::AdamW(ParameterSet& parameters, AdamWConfig config)
    : parameters_(parameters), config_(config), shard_(shard_for(parameters, config.shard_state)) {
  const Tensor& values = parameters.values();
  m_ = Tensor::zeros({shard_.size()}, values.dtype(), values.device());
  v_ = Tensor::zeros({shard_.size()}, values.dtype(), values.device());
  if (sharded()) shard_grads_ = Tensor::empty({shard_.size()}, values.dtype(), values.device());
  segments_ = clip_segments(parameters.decay_segments(), shard_);
}

void AdamW::reduce_gradients() {
  if (!distributed::collectives_run()) return;
  BIRDIE_NVTX_RANGE("adamw.reduce_gradients");
  if (sharded()) distributed::reduce_scatter_sum(parameters_.gradients(), shard_grads_);
  else distributed::all_reduce_sum(parameters_.gradients());
}

StepReport AdamW::step(double lr) {
  BIRDIE_NVTX_RANGE("adamw.step");
  StepReport report;
  const Tensor grads = sharded() ? shard_grads_ : parameters_.gradients();
  double squares = kernels::sum_of_squares(grads);
  if (sharded()) distributed::all_reduce_sum(std::span(&squares, 1));  // the global norm
  report.grad_norm = std::sqrt(squares);
  if (!std::isfinite(report.grad_norm)) {
    report.skipped = true;
    return report;
  }
  ++steps_;
  // Clipping is folded into the update (the gradients themselves are left as they are).
  const double clip = config_.clip_norm > 0 && report.grad_norm > config_.clip_norm
                          ? config_.clip_norm / report.grad_norm
                          : 1.0;
  kernels::AdamWHyper hyper{lr, config_.beta1, config_.beta2, config_.eps, config_.weight_decay,
                            steps_, clip};
  Tensor values = part(parameters_.values(), shard_);
  Tensor compute_copy = parameters_.has_compute_copy() ? part(parameters_.compute_values(), shard_) : Tensor();
  kernels::adamw_step(values, grads, m_, v_, segments_, hyper, compute_copy.defined() ? &compute_copy : nullptr);
  if (sharded()) {
    distributed::all_gather(parameters_.values());
    if (compute_copy.defined()) distributed::all_gather(parameters_.compute_values());
  }
  return report;
}

OptimizerState AdamW::state() const {
  if (!sharded()) return {steps_, m_, v_};
  OptimizerState out{steps_, Tensor(), Tensor()};
  if (distributed::world().rank == 0) {
    out.first_moment = Tensor::empty({parameters_.count()}, m_.dtype(), m_.device());
    out.second_moment = Tensor::empty({parameters_.count()}, v_.dtype(), v_.device());
  }
  distributed::gather(m_, out.first_moment);
  distributed::gather(v_, out.second_moment);
  return out;
}

void AdamW::restore(const OptimizerState& state) {
  for (const Tensor* t : {&state.first_moment, &state.second_moment})
    BIRDIE_CHECK(t->defined() && t->numel() == parameters_.count() && t->dtype() == m_.dtype(),
                 "the checkpoint's optimizer moments are ", t->defined() ? t->describe() : std::string("missing"),
                 " but the optimizer needs ", parameters_.count(), " values of ", dtype_name(m_.dtype()));
  steps_ = state.steps;
  m_.copy_from(part(state.first_moment.reshape({parameters_.count()}), shard_));
  v_.copy_from(part(state.second_moment.reshape({parameters_.count()}), shard_));
}

}  // namespace birdie::autograd
