#include "autograd/tape.h"

#include <optional>

#include "engine/nvtx.h"
#include "kernels/elementwise.h"

namespace birdie::autograd {

namespace {
thread_local Tape this_thread_tape;
thread_local Tape* active_tape = &this_thread_tape;
thread_local bool recording = true;
thread_local const void* backward_seed = nullptr;  // the ones tensor of backward(loss)
thread_local const void* handed_in_grad = nullptr;  // output_grad of the innermost backward()
thread_local std::uint64_t copies = 0;
thread_local std::shared_ptr<const std::string> current_region;
}  // namespace

RegionScope::RegionScope(std::string name)
    : previous_(current_region), forward_name_(name + ".forward"), range_(forward_name_.c_str()) {
  current_region = std::make_shared<const std::string>(std::move(name) + ".backward");
}
RegionScope::~RegionScope() { current_region = previous_; }

Tape& tape() { return *active_tape; }

TapeScope::TapeScope() : previous_(active_tape) { active_tape = &own_; }
TapeScope::~TapeScope() { active_tape = previous_; }

bool grad_enabled() { return recording; }

GradModeGuard::GradModeGuard(bool enabled) : previous_(recording) { recording = enabled; }
GradModeGuard::~GradModeGuard() { recording = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!recording) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

void record(const char* op, std::vector<Tensor> inputs, std::vector<Tensor> outputs,
            BackwardRule backward) {
  for (Tensor& out : outputs) out.set_requires_grad(true);
  tape().record(Node{op, std::move(inputs), std::move(outputs), std::move(backward), current_region});
}

void accumulate_grad(const Tensor& input, const Tensor& contribution) {
  if (!input.defined() || !input.requires_grad()) return;
  check_shape(contribution, input.shape(), "accumulate_grad");
  Tensor grad = input.grad();
  if (!grad.defined()) {
    // A copy, never the contribution itself: a rule may hand the same tensor to two
    // inputs, and later += into one must not change the other.
    input.set_grad(contribution.clone());
    ++copies;
    return;
  }
  kernels::accumulate(grad, contribution);
}

void accumulate_fresh_grad(const Tensor& input, const Tensor& fresh) {
  if (!input.defined() || !input.requires_grad()) return;
  if (input.grad().defined()) return accumulate_grad(input, fresh);
  check_shape(fresh, input.shape(), "accumulate_fresh_grad");
  input.set_grad(fresh);
}

std::uint64_t gradient_copies() { return copies; }

void accumulate_output_grad(const Tensor& input, const Tensor& output_grad) {
  if (!input.defined() || !input.requires_grad()) return;
  if (input.grad().defined() || output_grad.raw_data() == handed_in_grad)
    return accumulate_grad(input, output_grad);
  check_shape(output_grad, input.shape(), "accumulate_output_grad");
  input.set_grad(output_grad);
}

void backward(const Tensor& loss) {
  BIRDIE_CHECK(loss.numel() == 1, "backward: the loss must have one element, got ",
               loss.describe());
  const Tensor seed = Tensor::full(loss.shape(), 1.0, loss.dtype(), loss.device());
  struct SeedScope {
    const void* previous = backward_seed;
    explicit SeedScope(const void* seed) { backward_seed = seed; }
    ~SeedScope() { backward_seed = previous; }
  } seed_scope(seed.raw_data());
  backward(loss, seed);
}

bool is_backward_seed(const Tensor& grad) {
  return backward_seed != nullptr && grad.defined() && grad.raw_data() == backward_seed;
}

void backward(const Tensor& output, const Tensor& output_grad) {
  BIRDIE_NVTX_RANGE("autograd.backward");
  BIRDIE_CHECK(output.requires_grad(), "backward: the loss does not depend on anything that "
               "requires a gradient (was it computed under NoGradGuard?)");
  check_shape(output_grad, output.shape(), "backward: gradient of the output");
  struct ClearOnExit {  // the tape is cleared even when a rule throws
    ~ClearOnExit() { tape().clear(); }
  } clear_on_exit;
  struct HandedInScope {  // nested passes (recompute) restore the outer pass's
    const void* previous = handed_in_grad;
    explicit HandedInScope(const void* grad) { handed_in_grad = grad; }
    ~HandedInScope() { handed_in_grad = previous; }
  } handed_in(output_grad.raw_data());
  output.set_grad(output_grad);

  const auto& nodes = tape().nodes();
  NoGradGuard no_recording_inside_rules;
  // One NVTX range per run of consecutive nodes from the same region.
  std::optional<NvtxRange> region_range;
  const std::string* region = nullptr;
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    if (it->region.get() != region) {
      region_range.reset();
      region = it->region.get();
      if (region) region_range.emplace(region->c_str());
    }
    std::vector<Tensor> grads;
    bool any = false;
    for (const Tensor& out : it->outputs) {
      grads.push_back(out.grad());
      any = any || grads.back().defined();
    }
    if (!any) continue;
    it->backward(grads);
    // Node outputs are intermediate results: their gradients are not needed any more.
    // Leaves (never outputs) keep theirs.
    for (const Tensor& out : it->outputs) out.set_grad(Tensor());
  }
}

}  // namespace birdie::autograd
