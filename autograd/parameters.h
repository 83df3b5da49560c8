// Trainable parameters in one contiguous buffer per role (values, gradients), so the
// optimizer, the gradient norm, checkpointing and (later) the gradient all-reduce each
// work on one pointer. Every parameter is a named view into those buffers: a leaf that
// requires a gradient, whose gradient is the matching view of the gradient buffer.
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

class ParameterSet {
 public:
  ParameterSet() = default;
  ParameterSet(std::vector<ParameterSpec> specs, DType dtype, Device device);

  const Tensor& operator[](const std::string& name) const;  // throws naming the missing one
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const std::vector<ParameterSpec>& specs() const { return specs_; }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  std::int64_t offset_of(const std::string& name) const;

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
};

}  // namespace birdie::autograd
