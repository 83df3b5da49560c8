// The whole Gated SSM LM on the GPU against the same model on the CPU: fp32 (the docs/design.md
// fp32 bound) and mixed precision (fp32 master weights and gradients, bf16 compute copy and
// activations), whose CPU side emulates bf16 with the GPU kernels' arithmetic; the AdamW
// kernel keeping the compute copy equal to the rounded masters; a step that never waits for
// the device, and AdamW's skip of a non-finite step decided on the device. Skips itself
// (exit 77) without a GPU.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/adamw.h"
#include "autograd/tape.h"
#include "engine/storage.h"
#include "kernels/convert.h"
#include "kernels/cross_entropy.h"
#include "kernels/reduce.h"
#include "model/gated_ssm/gated_ssm_lm.h"
#include "tests/cuda_test_support.h"
#include "tests/support/gradient_errors.h"

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
  const double worst = check_master_gradients(gpu.parameters(), cpu.parameters(), grad_bound, relative_error);
  MESSAGE(dtype_name(compute), " compute, GPU vs CPU: logits ", relative_error(b.logits, a.logits),
          ", worst gradient ", worst);
}

}  // namespace

TEST_CASE("the LM in fp32: GPU logits, loss and every gradient match the CPU") {
  check_model(DType::f32, 1e-5, 1e-4);
}

// Both sides round the same ops to bf16; they differ in summation order, so a rounding
// can fall the other way and the difference compounds through the layers like any bf16
// error (bound: the docs/design.md bf16 bound for logits, 5x for gradients).
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

// The host runs ahead of the GPU only while it never waits for it: a whole step (forward,
// backward and AdamW, with the targets counted on the host) must not wait at all. AdamW
// decides on the device whether to clip and to skip; its report is read afterwards.
TEST_CASE("a training step does not wait for the device") {
  const model::ModelConfig config{53, 36, 42, 2};
  model::GatedSsmLm lm(config, DType::f32, Device::cuda, 5, DType::bf16);
  autograd::AdamW optimizer(lm.parameters(), {});
  const Batch host_batch = make_batch(config.vocab);
  const std::int64_t counted = kernels::count_targets(host_batch.targets, config.vocab);
  const Batch batch = host_batch.to(Device::cuda);
  forward_backward(lm, batch, counted);  // warm-up: plans, pools, the report's buffer
  optimizer.queue_step(1e-3).get();
  const std::uint64_t before = host_waits();
  const Result result = forward_backward(lm, batch, counted);
  // AdamW's step neither uploads nor allocates: its segment table went to the device when
  // the optimizer was built.
  const std::uint64_t uploads = host_uploads();
  const MemoryStats memory = memory_stats();
  autograd::PendingStepReport pending = optimizer.queue_step(1e-3);
  CHECK(host_uploads() == uploads);
  CHECK(memory_stats().device_allocations == memory.device_allocations);
  CHECK(host_waits() == before);
  const autograd::StepReport report = pending.get();  // read later: a wait, outside the step
  CHECK_FALSE(report.skipped);
  CHECK(report.steps_taken == 2);
  CHECK(report.grad_norm > 0);
  CHECK(report.grad_norm == doctest::Approx(std::sqrt(kernels::sum_of_squares(lm.parameters().gradients()))));
  (void)result;
}

// The device's decision to skip: a non-finite gradient (or loss) changes nothing, not the
// masters, the moments, the bf16 copy nor the step count; the next finite step goes on
// with step 2's bias correction, as on the CPU.
TEST_CASE("AdamW on the GPU skips a non-finite step on the device, as the CPU does") {
  const model::ModelConfig config{53, 36, 42, 2};
  model::GatedSsmLm gpu(config, DType::f32, Device::cuda, 9, DType::bf16);
  model::GatedSsmLm cpu(config, DType::f32, Device::cpu, 9, DType::bf16);
  autograd::AdamW gpu_optimizer(gpu.parameters(), {});
  autograd::AdamW cpu_optimizer(cpu.parameters(), {});
  RandomGenerator rng(5);
  const std::int64_t n = cpu.parameters().count();
  const Tensor gradient = random_cpu({n}, DType::f32, rng);
  cpu.parameters().gradients().copy_from(gradient);
  gpu.parameters().gradients().copy_from(gradient);
  REQUIRE_FALSE(cpu_optimizer.step(1e-2).skipped);
  REQUIRE_FALSE(gpu_optimizer.step(1e-2).skipped);
  const std::vector<float> masters = gpu.parameters().values().to_vector<float>();
  const std::vector<float> first = gpu_optimizer.first_moment().to_vector<float>();
  const std::vector<float> second = gpu_optimizer.second_moment().to_vector<float>();
  const std::vector<double> copy = gpu.parameters().compute_values().to_vector<double>();
  Tensor poisoned = gradient.clone();
  poisoned.data<float>()[n / 2] = NAN;
  gpu.parameters().gradients().copy_from(poisoned);
  const autograd::StepReport skipped = gpu_optimizer.step(1e-2);
  CHECK(skipped.skipped);
  CHECK(skipped.steps_taken == 1);
  CHECK(gpu_optimizer.steps_taken() == 1);
  CHECK(gpu.parameters().values().to_vector<float>() == masters);
  CHECK(gpu_optimizer.first_moment().to_vector<float>() == first);
  CHECK(gpu_optimizer.second_moment().to_vector<float>() == second);
  CHECK(gpu.parameters().compute_values().to_vector<double>() == copy);
  // A finite gradient with a non-finite loss is skipped too.
  gpu.parameters().gradients().copy_from(gradient);
  const Tensor nan_loss = Tensor::full({1}, NAN, DType::f64, Device::cuda);
  CHECK(gpu_optimizer.queue_step(1e-2, nan_loss).get().skipped);
  CHECK(gpu.parameters().values().to_vector<float>() == masters);
  // Then step 2 on both sides, from the same gradient (clipped: its norm is far above 1).
  const autograd::StepReport gpu_report = gpu_optimizer.step(1e-2);
  const autograd::StepReport cpu_report = cpu_optimizer.step(1e-2);
  CHECK((!gpu_report.skipped && gpu_report.steps_taken == 2 && cpu_report.steps_taken == 2));
  CHECK(gpu_report.grad_norm == doctest::Approx(cpu_report.grad_norm).epsilon(1e-9));
  CHECK(relative_error(gpu.parameters().values(), cpu.parameters().values()) < fp32_bound);
  CHECK(relative_error(gpu_optimizer.first_moment(), cpu_optimizer.first_moment()) < fp32_bound);
  CHECK(relative_error(gpu_optimizer.second_moment(), cpu_optimizer.second_moment()) < fp32_bound);
}

}  // namespace birdie::testing
