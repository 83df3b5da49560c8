// The reverse-mode tape. Every differentiable op that has an input requiring a gradient
// appends one Node in execution order: its inputs, outputs, and a backward rule that
// closes over whatever the op saved. backward(loss) walks the tape in reverse, hands each
// rule the gradients of its outputs, and the rule adds its contributions into the inputs'
// gradients with accumulate_grad (+=, so a tensor used twice gets both). The tape is
// cleared afterwards, releasing saved tensors. One tape per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/nvtx.h"
#include "engine/tensor.h"

namespace birdie::autograd {

// grads[k] is the gradient of outputs[k]; undefined when nothing flowed into it.
using BackwardRule = std::function<void(const std::vector<Tensor>& grads)>;

struct Node {
  const char* op;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
  BackwardRule backward;
  std::shared_ptr<const std::string> region;  // the RegionScope it was recorded in, if any
};

class Tape {
 public:
  void record(Node node) { nodes_.push_back(std::move(node)); }
  std::size_t size() const { return nodes_.size(); }
  const std::vector<Node>& nodes() const { return nodes_; }
  void clear() { nodes_.clear(); }

 private:
  std::vector<Node> nodes_;
};

// This thread's active tape.
Tape& tape();

// Makes a fresh tape active until the end of the scope (for the nested forward and
// backward pass of recompute(), which runs while the outer tape is being walked).
class TapeScope {
 public:
  TapeScope();
  ~TapeScope();
  TapeScope(const TapeScope&) = delete;
  TapeScope& operator=(const TapeScope&) = delete;

 private:
  Tape own_;
  Tape* previous_;
};

// Names a part of the model ("block 3") for profilers: the forward pass inside the scope
// is one NVTX range "block 3.forward", and the backward walk marks the nodes recorded here
// as one range "block 3.backward" (the tape alone knows nothing of blocks). Nested scopes
// name the innermost.
class RegionScope {
 public:
  explicit RegionScope(std::string name);
  ~RegionScope();
  RegionScope(const RegionScope&) = delete;
  RegionScope& operator=(const RegionScope&) = delete;

 private:
  std::shared_ptr<const std::string> previous_;
  std::string forward_name_;
  NvtxRange range_;
};

// Gradient recording is on unless a NoGradGuard is alive on this thread.
bool grad_enabled();

// Sets recording on this thread to `enabled` until the end of the scope, then restores it.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

// Turns recording on inside a backward rule (which otherwise runs without recording).
struct EnableGradGuard : GradModeGuard {
  EnableGradGuard() : GradModeGuard(true) {}
};

// True when recording is on and some input requires a gradient: the op must then record.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Marks the outputs as requiring gradients and appends the node. Ops call this only when
// needs_grad() said so.
void record(const char* op, std::vector<Tensor> inputs, std::vector<Tensor> outputs,
            BackwardRule backward);

// input.grad += contribution (allocating it on first use). A no-op for inputs that do
// not require a gradient, so rules may call it unconditionally.
void accumulate_grad(const Tensor& input, const Tensor& contribution);
// The same for a tensor the rule made for this input alone: adopted without a copy when
// the input has no gradient yet.
void accumulate_fresh_grad(const Tensor& input, const Tensor& fresh);

// The same for `output_grad`, the gradient of the rule's own output handed on unchanged
// (a residual connection, a reshape): an input without a gradient yet takes its buffer
// without a copy, since the tape drops the output's gradient when the rule returns. A rule
// calls it once, for one input, after its last use of output_grad. The gradient a caller
// passed to backward() is copied instead (the caller may still hold it).
void accumulate_output_grad(const Tensor& input, const Tensor& output_grad);

// How many gradients accumulate_grad has copied on this thread (a contribution handed to
// an input without a gradient yet, when it could not be adopted). A training step whose
// ops hand their gradients on makes none; step_bench reports it per step.
std::uint64_t gradient_copies();

// Seeds d loss / d loss = 1 (loss must have one element), runs every rule in reverse
// order, then clears the tape. Gradients of intermediate results are released as soon as
// their node has run; leaves (parameters) keep theirs until zeroed.
void backward(const Tensor& loss);
// True, inside a backward rule, when `grad` is the gradient of ones backward(loss) started
// from, handed unchanged to the node that produced the loss: a rule may then skip
// multiplying by it (and so never read a device scalar back, or make an extra pass).
bool is_backward_seed(const Tensor& grad);
// The same from any output, seeded with its gradient (same shape).
void backward(const Tensor& output, const Tensor& output_grad);

}  // namespace birdie::autograd
