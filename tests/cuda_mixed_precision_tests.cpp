// The whole Gated SSM LM on the GPU against the same model on the CPU: fp32 (the DESIGN.md
// fp32 bound) and mixed precision (fp32 master weights and gradients, bf16 compute copy and
// activations), whose CPU side emulates bf16 with the GPU kernels' arithmetic; and the
// AdamW kernel keeping the compute copy equal to the rounded masters. Skips itself (exit
// 77) without a GPU.
#include <doctest/doctest.h>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "kernels/convert.h"
#include "kernels/cross_entropy.h"
#include "model/gated_ssm/gated_ssm_lm.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {
namespace {

struct Batch {
  Tensor tokens, targets, reset;  // CPU
  Batch to(Device device) const { return {tokens.to(device), targets.to(device), reset.to(device)}; }
};

// Two rows with several samples, an empty-prompt sample (3), causal suffixes (2) and an
// ignored target; T not a multiple of any chunk size.
Batch make_batch(std::int64_t vocab) {
  const std::int64_t B = 2, T = 45;
  RandomGenerator rng(77);
  std::vector<std::int32_t> tokens(B * T), targets(B * T), reset(B * T, 0);
  for (auto& v : tokens) v = static_cast<std::int32_t>(rng.uniform_int(vocab));
  for (auto& v : targets) v = static_cast<std::int32_t>(rng.uniform_int(vocab));
  targets[3] = -1;
  reset[0] = 1; reset[20] = 1; reset[T] = 3; reset[T + 31] = 1;
  for (int t = 12; t < 20; ++t) reset[t] |= 2;
  for (int t = 30; t < 45; ++t) reset[t] |= 2;
  for (int t = T + 1; t < T + 10; ++t) reset[t] |= 2;
  return {Tensor::from_values<std::int32_t>(tokens, {B, T}), Tensor::from_values<std::int32_t>(targets, {B, T}),
          Tensor::from_values<std::int32_t>(reset, {B, T})};
}

struct Result {
  Tensor logits, loss;
};

// counted: the targets not ignored, when counted on the host as the trainer counts them
// (-1: counted here, from the targets, which waits for a GPU).
Result forward_backward(model::GatedSsmLm& lm, const Batch& batch, std::int64_t counted = -1) {
  lm.parameters().zero_grad();
  const Tensor logits = lm.logits(batch.tokens, batch.reset);
  const auto ce = autograd::cross_entropy(logits, batch.targets.reshape({-1}), {.counted = counted});
  autograd::backward(ce.loss);
  return {logits, ce.loss};
}

// The same model (weights from one seed) on the CPU and on the GPU, compared.
void check_model(DType compute, double logits_bound, double grad_bound) {
  // Odd widths: D and N not multiples of 8; alternate bidirectional layers.
  const model::ModelConfig config{53, 36, 42, 3};
  model::GatedSsmLm cpu(config, DType::f32, Device::cpu, 11, compute);
  model::GatedSsmLm gpu(config, DType::f32, Device::cuda, 11, compute);
  const Batch batch = make_batch(config.vocab);
  const Result a = forward_backward(cpu, batch);
  const Result b = forward_backward(gpu, batch.to(Device::cuda));
  CHECK(b.logits.dtype() == compute);
  CHECK(relative_error(b.logits, a.logits) < logits_bound);
  CHECK(relative_error(b.loss, a.loss) < logits_bound);
  double worst = 0;
  for (const auto& spec : cpu.parameters().specs()) {
    CAPTURE(spec.name);
    const Tensor& grad = gpu.parameters()[spec.name].grad();
    CHECK(grad.dtype() == DType::f32);
    const double error = relative_error(grad, cpu.parameters()[spec.name].grad());
    worst = std::max(worst, error);
    CHECK(error < grad_bound);
  }
  MESSAGE(dtype_name(compute), " compute, GPU vs CPU: logits ", relative_error(b.logits, a.logits),
          ", worst gradient ", worst);
}

}  // namespace

TEST_CASE("the LM in fp32: GPU logits, loss and every gradient match the CPU") {
  check_model(DType::f32, 1e-5, 1e-4);
}

// Both sides round the same ops to bf16; they differ in summation order, so a rounding
// can fall the other way and the difference compounds through the layers like any bf16
// error (bound: the DESIGN.md bf16 bound for logits, 5x for gradients).
TEST_CASE("the LM with bf16 compute: GPU against the CPU's bf16 emulation") {
  check_model(DType::bf16, bf16_bound, 5 * bf16_bound);
}

TEST_CASE("AdamW on the GPU writes the compute copy as the rounded master weights") {
  const model::ModelConfig config{53, 36, 42, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cuda, 3, DType::bf16);
  autograd::AdamW optimizer(lm.parameters(), {});
  const Batch batch = make_batch(config.vocab).to(Device::cuda);
  for (int i = 0; i < 2; ++i) {
    forward_backward(lm, batch);
    REQUIRE_FALSE(optimizer.step(1e-2).skipped);
    const Tensor rounded = lm.parameters().values().to(Device::cpu).to(DType::bf16);
    const Tensor copy = lm.parameters().compute_values().to(Device::cpu);
    const auto* x = rounded.data<bfloat16>();
    const auto* y = copy.data<bfloat16>();
    std::int64_t different = 0;
    for (std::int64_t k = 0; k < rounded.numel(); ++k) different += x[k].bits != y[k].bits;
    CHECK(different == 0);
  }
}

// The host runs ahead of the GPU only while it never waits for it: the forward and backward
// of a step must not wait at all, AdamW once (it reads the gradient norm, for clipping and
// to skip a step with a non-finite gradient; a device-side clip factor would remove it).
TEST_CASE("a training step waits for the device only for AdamW's gradient norm") {
  const model::ModelConfig config{53, 36, 42, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cuda, 5, DType::bf16);
  autograd::AdamW optimizer(lm.parameters(), {});
  const Batch host_batch = make_batch(config.vocab);
  const std::int64_t counted = kernels::count_targets(host_batch.targets, config.vocab);
  const Batch batch = host_batch.to(Device::cuda);
  forward_backward(lm, batch, counted);  // warm-up: plans, pools
  optimizer.step(1e-3);
  const std::uint64_t before = host_waits();
  forward_backward(lm, batch, counted);
  CHECK(host_waits() == before);
  optimizer.step(1e-3);
  CHECK(host_waits() == before + 1);
}

}  // namespace birdie::testing
