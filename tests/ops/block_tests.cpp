// Several ops together: an SSM block through the autograd tape (rmsnorm, linear, gated
// scan, residual), its finite-difference gradients on the CPU, and a two-block language
// model step on the GPU against the same graph on the CPU in f64 (cuda_autograd_tests).
// The harness, and the two suites these cases run in: tests/ops/op_harness.h.
#include "tests/ops/op_harness.h"

#include <map>
#include <string>

#include "autograd/ops.h"
#include "autograd/tape.h"
#include "kernels/scan.h"

namespace birdie::testing {
TEST_SUITE_BEGIN("block");

#if !BIRDIE_OPS_GPU  // ---- CPU (ops_tests) ----

TEST_CASE("gradient: a composite block — rmsnorm → linear → scan → linear → residual") {
  RandomGenerator rng(18);
  const std::int64_t B = 2, T = 5, D = 3, N = 4;
  Tensor reset = Tensor::from_values<std::int32_t>({1, 0, 2, 2, 2, 1, 2, 2, 1, 0}, {B, T});
  check_gradients(
      [&](const Inputs& in) {
        Tensor u = ag::rmsnorm(in[0], in[1]);
        Tensor proj = ag::linear(u, in[2], in[3]);
        Tensor y = ag::gated_scan(proj, in[5], kernels::ScanDirection::bidirectional);
        return weighted_sum(ag::add(in[0], ag::linear(y, in[4])));
      },
      {random_tensor({B, T, D}, rng), random_tensor({D}, rng, 0.5, 1.5),
       random_tensor({4 * N, D}, rng), random_tensor({4 * N}, rng), random_tensor({D, N}, rng),
       reset});
}

#else  // ---- GPU against the CPU (cuda_autograd_tests) ----

// A tiny Gated SSM language model step through the autograd tape on the GPU (f32) against
// the same graph on the CPU in f64: loss and every parameter gradient. This exercises the
// kernels together as the model uses them (the scan's chunk-boundary `saved` tensor
// handed from forward to backward, β = 1 gradient accumulation, sum_to_trailing for the
// bias, the fused cross-entropy). The single-op fp32 bound applies to the whole graph:
// the same graph in f32 on the CPU lands under 1e-6 against f64.

namespace {

using Params = std::map<std::string, Tensor>;

// embedding → [RMSNorm → D→4N (+bias) → bidirectional scan → N→D → residual] → RMSNorm →
// head → cross-entropy, then a causal block likewise.
Tensor model_loss(const Params& p, const Tensor& ids, const Tensor& reset, const Tensor& targets,
                  std::int64_t B, std::int64_t T) {
  using namespace autograd;
  Tensor x = embedding(p.at("embed"), ids);  // [B, T, D]
  int layer = 0;
  for (auto direction : {kernels::ScanDirection::bidirectional, kernels::ScanDirection::causal}) {
    const std::string prefix = "block" + std::to_string(layer++) + ".";
    const Tensor u = rmsnorm(x, p.at(prefix + "norm"));
    const Tensor proj = linear(u, p.at(prefix + "in"), p.at(prefix + "in_bias"));
    const Tensor y = gated_scan(proj, reset, direction);
    x = add(x, linear(y, p.at(prefix + "out")));
  }
  const Tensor logits = linear(rmsnorm(x, p.at("final_norm")), p.at("head"));
  return cross_entropy(reshape(logits, {B * T, -1}), targets).loss;
}

struct Setup {
  std::int64_t B = 2, T = 41, D = 24, N = 20, V = 37;
  std::map<std::string, Shape> shapes;
  Params cpu, gpu;
  Tensor ids, reset, targets;  // CPU
};

// Parameters drawn once in f32; the CPU copy in f64, the GPU copy in `gpu_dtype`. The
// CPU copy holds exactly the GPU's values (bf16 → f64 is exact).
Setup make_setup(DType gpu_dtype) {
  Setup s;
  const std::int64_t D = s.D, N = s.N, V = s.V, B = s.B, T = s.T;
  RandomGenerator rng(555);
  s.shapes = {{"embed", {V, D}}, {"final_norm", {D}}, {"head", {V, D}},
              {"block0.norm", {D}}, {"block0.in", {4 * N, D}}, {"block0.in_bias", {4 * N}}, {"block0.out", {D, N}},
              {"block1.norm", {D}}, {"block1.in", {4 * N, D}}, {"block1.in_bias", {4 * N}}, {"block1.out", {D, N}}};
  for (const auto& [name, shape] : s.shapes) {
    const bool norm = name.find("norm") != std::string::npos;
    const Tensor values = random_cpu(shape, gpu_dtype, rng, norm ? 0.5 : -0.4, norm ? 1.5 : 0.4);
    s.cpu[name] = values.to(DType::f64);
    s.gpu[name] = values.to(Device::cuda);
    s.cpu[name].set_requires_grad(true);
    s.gpu[name].set_requires_grad(true);
  }
  std::vector<std::int32_t> ids(B * T), targets(B * T), reset(B * T, 0);
  for (auto& v : ids) v = static_cast<std::int32_t>(rng.uniform_int(V));
  for (auto& v : targets) v = static_cast<std::int32_t>(rng.uniform_int(V));
  targets[5] = -1;  // an ignored row
  reset[0] = 1; reset[17] = 1; reset[12] = 2; reset[13] = 2; reset[T] = 3; reset[T + 30] = 1;
  s.ids = Tensor::from_values<std::int32_t>(ids, {B, T});
  s.reset = Tensor::from_values<std::int32_t>(reset, {B, T});
  s.targets = Tensor::from_values<std::int32_t>(targets, {B * T});
  return s;
}

void check_step(DType gpu_dtype, double loss_bound, double grad_bound) {
  Setup s = make_setup(gpu_dtype);
  const Tensor loss_cpu = model_loss(s.cpu, s.ids, s.reset, s.targets, s.B, s.T);
  autograd::backward(loss_cpu);
  const Tensor loss_gpu = model_loss(s.gpu, s.ids.to(Device::cuda), s.reset.to(Device::cuda),
                                     s.targets.to(Device::cuda), s.B, s.T);
  autograd::backward(loss_gpu);
  CHECK(relative_error(loss_gpu, loss_cpu) < loss_bound);
  for (const auto& [name, shape] : s.shapes) {
    CAPTURE(name);
    REQUIRE(s.gpu[name].grad().defined());
    CHECK(s.gpu[name].grad().device() == Device::cuda);
    CHECK(relative_error(s.gpu[name].grad(), s.cpu[name].grad()) < grad_bound);
  }
}

}  // namespace

TEST_CASE("a two-block Gated SSM step: GPU (f32) loss and gradients match the CPU (f64)") {
  check_step(DType::f32, fp32_bound, fp32_bound);
}

// Every tensor of this graph is bf16 (weights, activations, gradients), with f32 state and
// f32 accumulation inside the kernels: each op rounds its output to bf16 (2^-9 relative),
// and the rounding compounds through about twenty ops forward and back, so the gradient
// bound is 5e-2 (the loss keeps the single-op bf16 bound). A wrong kernel is off by O(1).
TEST_CASE("the same step entirely in bf16 on the GPU stays close to the f64 reference") {
  check_step(DType::bf16, bf16_bound, 5 * bf16_bound);
}

#endif

TEST_SUITE_END();
}  // namespace birdie::testing
