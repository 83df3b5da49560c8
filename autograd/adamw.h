// The AdamW optimizer over a ParameterSet's flat buffers: moments in one buffer each,
// gradient clipping by global norm, one kernel call per step (which also rewrites the
// bf16 compute copy when the set has one).
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
  bool skipped = false;  // the gradient was not finite: nothing was changed
};

class AdamW {
 public:
  AdamW(ParameterSet& parameters, AdamWConfig config);

  // Updates the parameters with learning rate lr, the gradient clipped to the global norm
  // clip_norm (scaled inside the update; the gradient buffer is not modified). A
  // non-finite gradient norm skips the update (and does not advance the step count).
  StepReport step(double lr);
  // Sums the gradients over the ranks (nothing alone): the whole buffer, or with sharded
  // state this rank's shard (the rest of its gradient buffer is then not the sum). Every
  // rank calls it after the backward pass and before step().
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

  std::int64_t steps_taken() const { return steps_; }
  // This rank's moments (all of them unless sharded).
  Tensor& first_moment() { return m_; }
  Tensor& second_moment() { return v_; }
  void set_steps_taken(std::int64_t steps) { steps_ = steps; }
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
  std::vector<kernels::DecaySegment> segments_;  // relative to the shard
  std::int64_t steps_ = 0;
  // The bucketed reduction in progress.
  bool reducing_ = false;
  ParameterRange gathering_;                   // final, not yet started (grows downwards)
  std::vector<ParameterRange> started_ranges_;
  std::vector<distributed::PendingCollective> in_flight_;
  void start_bucket(ParameterRange range);
};

}  // namespace birdie::autograd
