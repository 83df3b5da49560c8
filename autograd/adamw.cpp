#include "autograd/adamw.h"

#include <algorithm>
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
  segments_ = kernels::AdamWSegments(clip_segments(parameters.decay_segments(), shard_), shard_.size(),
                                     values.device());
  status_ = Tensor::zeros({kernels::adamw_status::size}, DType::f64, values.device());
}

StepReport PendingStepReport::get() {
  namespace slot = kernels::adamw_status;
  const double* record = values_.values().data<double>();  // slots loss … steps
  StepReport report;
  report.loss = record[slot::loss - slot::loss];
  report.grad_norm = record[slot::norm - slot::loss];
  report.skipped = record[slot::skipped - slot::loss] != 0.0;
  report.steps_taken = static_cast<std::int64_t>(record[slot::steps - slot::loss]);
  return report;
}

std::int64_t AdamW::steps_taken() const {
  return static_cast<std::int64_t>(status_.item(kernels::adamw_status::steps));
}

void AdamW::set_steps_taken(std::int64_t steps) {
  status_.slice(kernels::adamw_status::steps, kernels::adamw_status::steps + 1)
      .copy_from(Tensor::full({1}, double(steps), DType::f64));
}

void AdamW::reduce_gradients() {
  begin_reduction();
  finish_reduction();
}

void AdamW::begin_reduction() {
  BIRDIE_CHECK(!reducing_, "AdamW::begin_reduction: the previous reduction was not finished");
  reducing_ = true;
  gathering_ = {};
  started_ranges_.clear();
}

void AdamW::start_bucket(ParameterRange range) {
  if (range.begin >= range.end) return;
  started_ranges_.push_back(range);
  if (!distributed::collectives_run()) return;
  const Tensor& grads = parameters_.gradients();
  constexpr std::int64_t piece = std::int64_t(1) << 30;  // MPI's counts are int
  for (std::int64_t begin = range.begin; begin < range.end; begin += piece) {
    const std::int64_t end = std::min(range.end, begin + piece);
    in_flight_.push_back(sharded() ? distributed::reduce_scatter_sum_async(grads, {begin, end}, shard_grads_)
                                   : distributed::all_reduce_sum_async(grads.slice(begin, end)));
  }
}

void AdamW::gradients_final(ParameterRange range) {
  BIRDIE_CHECK(reducing_, "AdamW::gradients_final outside begin_reduction() … finish_reduction()");
  BIRDIE_CHECK(0 <= range.begin && range.begin <= range.end && range.end <= parameters_.count(),
               "AdamW::gradients_final: range [", range.begin, ", ", range.end, ") is outside the ",
               parameters_.count(), " parameters");
  // Blocks finish last to first and lie in order in the buffer: each range usually ends
  // where the one gathered before it begins.
  if (range.end == gathering_.begin) {
    gathering_.begin = range.begin;
  } else {
    start_bucket(gathering_);
    gathering_ = range;
  }
  if (gathering_.end - gathering_.begin >= config_.bucket_elements) {
    start_bucket(gathering_);
    gathering_ = {};
  }
  for (auto& pending : in_flight_) pending.progress();
}

void AdamW::finish_reduction() {
  BIRDIE_CHECK(reducing_, "AdamW::finish_reduction without begin_reduction()");
  BIRDIE_NVTX_RANGE("adamw.finish_reduction");
  reducing_ = false;
  start_bucket(gathering_);
  // The ranges no mark covered, in buffer order.
  std::vector<ParameterRange> covered = started_ranges_;
  std::sort(covered.begin(), covered.end(), [](auto a, auto b) { return a.begin < b.begin; });
  std::int64_t at = 0;
  for (const ParameterRange& r : covered) {
    BIRDIE_CHECK(r.begin >= at, "AdamW: gradient range [", r.begin, ", ", r.end, ") was marked final twice");
    start_bucket({at, r.begin});
    at = r.end;
  }
  start_bucket({at, parameters_.count()});
  for (auto& pending : in_flight_) pending.wait();
  in_flight_.clear();
}

PendingStepReport AdamW::queue_step(double lr, const Tensor& loss) {
  BIRDIE_NVTX_RANGE("adamw.step");
  namespace slot = kernels::adamw_status;
  const Tensor grads = sharded() ? shard_grads_ : parameters_.gradients();
  // The global norm's square, on the device: with sharded state each rank holds a part.
  Tensor squares = status_.slice(slot::squares, slot::squares + 1);
  kernels::sum_of_squares_into(grads, squares);
  if (sharded()) distributed::all_reduce_sum(squares);
  Tensor step_loss = status_.slice(slot::loss, slot::loss + 1);
  if (loss.defined()) {
    BIRDIE_CHECK(loss.numel() == 1 && loss.dtype() == DType::f64 && loss.device() == status_.device(),
                 "AdamW::queue_step: the loss is one f64 on the parameters' device, got ", loss.describe());
    step_loss.copy_from(loss.reshape({1}));
  } else {
    step_loss.fill_zero();
  }
  // Skip or not, the clip factor and the step count: decided on the device, and read there
  // by the update (clipping is folded into it; the gradients are left as they are).
  kernels::adamw_decide(status_, config_.beta1, config_.beta2, config_.clip_norm);
  kernels::AdamWHyper hyper{lr, config_.beta1, config_.beta2, config_.eps, config_.weight_decay};
  Tensor values = part(parameters_.values(), shard_);
  Tensor compute_copy = parameters_.has_compute_copy() ? part(parameters_.compute_values(), shard_) : Tensor();
  kernels::adamw_step(values, grads, m_, v_, segments_, hyper, status_,
                      compute_copy.defined() ? &compute_copy : nullptr);
  if (sharded()) {
    // After a skipped step every rank's shard is as it was: gathering them changes nothing.
    distributed::all_gather(parameters_.values());
    if (compute_copy.defined()) distributed::all_gather(parameters_.compute_values());
  }
  return PendingStepReport(ReadBack(status_.slice(slot::loss, slot::steps + 1)));
}

OptimizerState AdamW::state() const {
  if (!sharded()) return {steps_taken(), m_, v_};
  OptimizerState out{steps_taken(), Tensor(), Tensor()};
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
  set_steps_taken(state.steps);
  m_.copy_from(part(state.first_moment.reshape({parameters_.count()}), shard_));
  v_.copy_from(part(state.second_moment.reshape({parameters_.count()}), shard_));
}

}  // namespace birdie::autograd
