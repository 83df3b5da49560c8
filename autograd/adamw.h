// The AdamW optimizer over a ParameterSet's flat buffers: moments in one buffer each,
// gradient clipping by global norm, one kernel call per step (which also rewrites the
// bf16 compute copy when the set has one).
//
// A step never waits for the device: the gradient's sum of squares stays on the device,
// where a one-thread kernel turns it into the norm, the clip factor, the bias correction
// and the decision to skip a step whose gradient (or loss) is not finite
// (kernels/adamw_status.h), and the update reads them there. On a GPU the host therefore
// queues AdamW right behind the backward pass instead of waiting for it, and the device's
// queue never runs dry between two steps. The step's report (norm, skipped, loss) travels
// back to the host behind the step, to be read later (PendingStepReport); the step count
// lives on the device too, and is read back only by steps_taken() and state() (for a
// checkpoint: a point where the host waits anyway). On the CPU the same code runs at
// once, with the same numbers as a decision made on the host.
//
// Over the ranks of a data-parallel job (engine/distributed.h) the gradients are summed by
// reduce_gradients(). With shard_state (ZeRO-1) each rank keeps the moments of its shard of
// the flat buffer only, receives only its shard of the summed gradient (reduce-scatter),
// updates those parameters and all-gathers them: the same update as replicated state, with
// the moments' memory divided by the number of ranks.
#pragma once

#include <vector>

#include "autograd/gradients_final.h"
#include "autograd/parameters.h"
#include "engine/distributed.h"
#include "engine/read_back.h"
#include "kernels/adamw.h"

namespace birdie::autograd {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  double clip_norm = 1.0;  // ≤ 0 disables clipping
  bool shard_state = false;  // ZeRO-1 over the ranks (a no-op alone)
  // Gradient ranges that become final together are summed over the ranks in one collective
  // once they reach this many elements (PyTorch DDP's 25 MiB of f32 by default).
  std::int64_t bucket_elements = std::int64_t(25) << 18;
};

// What a checkpoint holds of the optimizer: the moments of the whole flat buffer.
struct OptimizerState {
  std::int64_t steps = 0;
  Tensor first_moment, second_moment;
};

struct StepReport {
  double grad_norm = 0;  // before clipping
  bool skipped = false;  // the gradient (or the loss given) was not finite: nothing was changed
  double loss = 0;       // the loss given to queue_step (0 without one)
  std::int64_t steps_taken = 0;  // updates taken, this step included unless skipped
};

// A queued step's report on its way to the host: ready() never blocks; get() waits for the
// device when the step has not finished yet (a host wait, engine/device.h).
class PendingStepReport {
 public:
  PendingStepReport() = default;
  explicit PendingStepReport(ReadBack values) : values_(std::move(values)) {}
  bool ready() const { return values_.ready(); }
  StepReport get();

 private:
  ReadBack values_;  // status slots loss … steps (kernels/adamw_status.h)
};

class AdamW {
 public:
  AdamW(ParameterSet& parameters, AdamWConfig config);

  // Queues the update of the parameters with learning rate lr, the gradient clipped to the
  // global norm clip_norm (scaled inside the update; the gradient buffer is not modified).
  // A non-finite gradient norm, or a non-finite `loss` (optional: f64 [1] on the
  // parameters' device, the step's loss summed over the ranks), skips the update: the
  // parameters, moments, compute copy and step count stay as they were. Nothing waits for
  // the device; the report follows.
  PendingStepReport queue_step(double lr, const Tensor& loss = Tensor());
  // queue_step, then its report (on a GPU, a wait for the step to finish).
  StepReport step(double lr) { return queue_step(lr).get(); }
  // Sums the gradients over the ranks (nothing alone): the whole buffer, or with sharded
  // state this rank's shard (the rest of its gradient buffer is then not the sum). Every
  // rank calls it after the backward pass and before queue_step() or step().
  void reduce_gradients();
  // The same sum in buckets, started while the backward pass runs:
  //     optimizer.begin_reduction();
  //     { GradientsFinalListener l([&](ParameterRange r) { optimizer.gradients_final(r); });
  //       backward(loss); }
  //     optimizer.finish_reduction();
  // gradients_final() collects the ranges the model marks (autograd/gradients_final.h) into
  // buckets and starts each one's collective; finish_reduction() starts the rest of the
  // buffer (what no mark covered: the embedding, the head) and waits for them all.
  void begin_reduction();
  void gradients_final(ParameterRange range);
  void finish_reduction();

  // The step count of the bias correction (read from the device: a host wait on a GPU).
  std::int64_t steps_taken() const;
  // This rank's moments (all of them unless sharded).
  Tensor& first_moment() { return m_; }
  Tensor& second_moment() { return v_; }
  void set_steps_taken(std::int64_t steps);
  // The whole state for a checkpoint. Sharded, it is a collective: rank 0 receives the
  // full moments, the other ranks undefined tensors.
  OptimizerState state() const;
  // From a checkpoint's whole state (any number of ranks wrote it): keeps this rank's part.
  void restore(const OptimizerState& state);

 private:
  ParameterSet& parameters_;
  AdamWConfig config_;
  bool sharded() const { return shard_.size() != parameters_.count(); }
  Tensor m_, v_;
  distributed::Range shard_;  // the part of the flat buffer this rank updates
  Tensor shard_grads_;        // sharded: this rank's part of the summed gradient
  // Relative to the shard; on a GPU their table lives on the device from construction on
  // (a resume restores moments and the step count, never the segments): no step uploads it.
  kernels::AdamWSegments segments_;
  // f64 [adamw_status::size] on the parameters' device: the step count and the last
  // step's norm, decision and clip factor (kernels/adamw_status.h).
  Tensor status_;
  // The bucketed reduction in progress.
  bool reducing_ = false;
  ParameterRange gathering_;                   // final, not yet started (grows downwards)
  std::vector<ParameterRange> started_ranges_;
  std::vector<distributed::PendingCollective> in_flight_;
  void start_bucket(ParameterRange range);
};

}  // namespace birdie::autograd
