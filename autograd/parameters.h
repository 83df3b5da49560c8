// Trainable parameters in one contiguous buffer per role (values, gradients), so the
// optimizer, the gradient norm, checkpointing and (later) the gradient all-reduce each
// work on one pointer. Every parameter is a named view into those buffers: a leaf that
// requires a gradient, whose gradient is the matching view of the gradient buffer.
//
// Mixed precision (docs/method.md §5: fp32 master weights, bf16 compute) adds a third buffer,
// the compute copy: the values rounded to bf16, which the forward pass reads. Its views
// are leaves too, and their gradients are the same fp32 views of the gradient buffer, so
// the backward pass of a bf16 forward accumulates straight into the fp32 gradients.
// AdamW writes the copy as it updates the master values (kernels/adamw.h); anything else
// that writes the master values (initialization, loading a checkpoint) calls
// refresh_compute_copy().
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "engine/tensor.h"
#include "kernels/adamw.h"

namespace birdie::autograd {

struct ParameterSpec {
  std::string name;  // "blocks.3.in_proj.weight" style
  Shape shape;
  bool decay = true;  // false: no weight decay (biases, norms)
  // Rows [begin, end) of dim 0 exempt from decay even when `decay` is set: the forget
  // gate's rows of a fused [i; f; z; o] projection.
  std::int64_t no_decay_row_begin = 0;
  std::int64_t no_decay_row_end = 0;
};

// A range [begin, end) of a ParameterSet's flat buffers.
struct ParameterRange {
  std::int64_t begin = 0, end = 0;
};

class ParameterSet {
 public:
  ParameterSet() = default;
  ParameterSet(std::vector<ParameterSpec> specs, DType dtype, Device device);

  const Tensor& operator[](const std::string& name) const;  // throws naming the missing one
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const std::vector<ParameterSpec>& specs() const { return specs_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  std::int64_t offset_of(const std::string& name) const;
  // Where the parameters whose names start with `prefix` lie ("blocks.3."); throws when
  // none does or others lie between them.
  ParameterRange range_of(const std::string& prefix) const;

  // Creates the compute copy in `dtype` (bf16) from the current values. Once.
  void add_compute_copy(DType dtype);
  bool has_compute_copy() const { return compute_values_.defined(); }
  // What the forward pass computes with: the compute copy's view, or the master view
  // when there is no copy.
  const Tensor& compute(const std::string& name) const;
  Tensor& compute_values() { return compute_values_; }  // flat; undefined without a copy
  DType compute_dtype() const { return (has_compute_copy() ? compute_values_ : values_).dtype(); }
  // compute copy ← values rounded; a no-op without a copy.
  void refresh_compute_copy();

  Tensor& values() { return values_; }      // flat [count]
  Tensor& gradients() { return grads_; }    // flat [count]
  std::int64_t count() const { return values_.defined() ? values_.numel() : 0; }
  void zero_grad() { grads_.fill_zero(); }
  // Runs of equal decay flag covering the buffer in order, for AdamW.
  std::vector<kernels::DecaySegment> decay_segments() const;

 private:
  std::vector<ParameterSpec> specs_;
  std::vector<std::int64_t> offsets_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  Tensor values_, grads_;
  Tensor compute_values_;
  std::vector<Tensor> compute_tensors_;

  std::size_t index_of(const std::string& name) const;
};

}  // namespace birdie::autograd
