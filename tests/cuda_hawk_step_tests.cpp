// Hawk's recurrent generation on the GPU against the CPU: the one-token kernels of
// kernels/rglru_step.h (the RG-LRU's final state after a prompt, RG-LRU and convolution
// steps) and column copies (kernels/columns.h) against their CPU references, then a small Hawk
// model's prefill and chained steps, logits compared after every token.
#include <doctest/doctest.h>

#include "kernels/columns.h"
#include "kernels/rglru_step.h"
#include "model/generator.h"
#include "model/hawk/hawk_decoder.h"
#include "tests/cuda_generation_parity.h"
#include "tests/cuda_test_support.h"
#include "tests/support/small_model_config.h"

namespace birdie::testing {
namespace {

model::ModelConfig hawk_config() {
  // State 22, odd halves (11): the bidirectional split off any vector width.
  return small_model_config(model::Architecture::hawk, {.vocab = 45, .dim = 24, .hawk_state = 22, .mlp_hidden = 40});
}


}  // namespace

TEST_CASE("copy_columns: column blocks between row-major tensors on the GPU") {
  RandomGenerator rng(3);
  const Tensor src = random_cpu({5, 3, 7}, DType::f32, rng);
  Tensor want = Tensor::zeros({5, 3, 4}, DType::f32), got = Tensor::zeros({5, 3, 4}, DType::f32, Device::cuda);
  kernels::copy_columns(src, 2, want, 1, 3);
  kernels::copy_columns(src.to(Device::cuda), 2, got, 1, 3);
  CHECK(relative_error(got, as_f64_cpu(want)) == 0.0);
}

TEST_CASE("rglru_final_state, rglru_step and conv1d_step on the GPU match the CPU reference") {
  for (DType dtype : {DType::f32, DType::bf16}) {
    for (auto direction : {kernels::ScanDirection::causal, kernels::ScanDirection::bidirectional}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(int(direction));
      RandomGenerator rng(17);
      const std::int64_t B = 3, T = 37, C = 70, K = 4;
      const Tensor drive = random_cpu({B, T, C}, dtype, rng, -2, 2);
      const Tensor gates = random_cpu({B, T, 2 * C}, dtype, rng, -2, 2);
      const Tensor lambda = random_cpu({C}, DType::f32, rng, 0, 5);
      std::vector<std::int32_t> r(B * T, 0);
      for (std::int64_t b = 0; b < B; ++b) {
        r[b * T] = 1;
        r[b * T + 5 + 7 * b] |= 1;  // a second segment in each row
      }
      const Tensor reset = Tensor::from_values<std::int32_t>(r, {B, T});
      const DType state_dtype = kernels::rglru_state_dtype(dtype);
      Tensor want_state = Tensor::empty({B, C}, DType::f64);
      kernels::rglru_final_state(as_f64_cpu(drive), as_f64_cpu(gates), as_f64_cpu(lambda), reset, direction,
                                 want_state);
      Tensor state = poisoned_cuda({B, C}, state_dtype);
      kernels::rglru_final_state(drive.to(Device::cuda), gates.to(Device::cuda), lambda.to(Device::cuda),
                                 reset.to(Device::cuda), direction, state);
      CHECK(relative_error(state, want_state) < fp32_bound * 10);

      // Steps from that state.
      const Tensor step_x = random_cpu({B, C}, dtype, rng, -2, 2);
      const Tensor step_gates = random_cpu({B, 2 * C}, dtype, rng, -2, 2);
      Tensor want_y = Tensor::empty({B, C}, DType::f64);
      kernels::rglru_step(as_f64_cpu(step_x), as_f64_cpu(step_gates), as_f64_cpu(lambda), want_state, direction,
                          want_y);
      Tensor y = poisoned_cuda({B, C}, dtype);
      kernels::rglru_step(step_x.to(Device::cuda), step_gates.to(Device::cuda), lambda.to(Device::cuda), state,
                          direction, y);
      CHECK(relative_error(y, want_y) < bound_for(dtype));
      CHECK(relative_error(state, want_state) < fp32_bound * 10);

      const Tensor x = random_cpu({B, C}, dtype, rng), weight = random_cpu({K, C}, dtype, rng),
                   bias = random_cpu({C}, dtype, rng), window = random_cpu({B, K - 1, C}, dtype, rng);
      Tensor want_window = as_f64_cpu(window), want_c = Tensor::empty({B, C}, DType::f64);
      kernels::conv1d_step(as_f64_cpu(x), as_f64_cpu(weight), as_f64_cpu(bias), want_window, direction, want_c);
      Tensor gpu_window = window.to(Device::cuda), c = poisoned_cuda({B, C}, dtype);
      kernels::conv1d_step(x.to(Device::cuda), weight.to(Device::cuda), bias.to(Device::cuda), gpu_window, direction, c);
      CHECK(relative_error(c, want_c) < bound_for(dtype));
      CHECK(relative_error(gpu_window, want_window) == 0.0);  // a shift: exact
    }
  }
}

namespace {
void check_generation(DType compute, double bound) {
  CAPTURE(dtype_name(compute));
  model::HawkLm gpu(hawk_config(), DType::f32, Device::cuda, 7, compute);
  model::HawkLm cpu(hawk_config(), DType::f32, Device::cpu, 7);
  cpu.parameters().values().copy_from(gpu.parameters().values().to(Device::cpu));
  if (compute == DType::bf16) {  // the CPU model computes with the same bf16-rounded weights, in f32
    cpu.parameters().values().copy_from(gpu.parameters().compute_values().to(Device::cpu).to(DType::f32));
    // Λ stays f32 in both.
    for (std::int64_t l = 0; l < 3; ++l) {
      const std::string name = model::block_prefix(l) + "temporal.lambda";
      cpu.parameters()[name].copy_from(gpu.parameters()[name].to(Device::cpu));
    }
  }
  check_generation_matches(gpu, cpu, 6, bound);
}
}  // namespace

TEST_CASE("a small Hawk model generates the same logits on the GPU (f32) as on the CPU") {
  check_generation(DType::f32, 1e-4);
}

// bf16 activations over f32 masters, f32 recurrent states: roundings compound through
// three blocks and the head (as in cuda_generation_tests).
TEST_CASE("the same Hawk model with bf16 compute on the GPU stays close") { check_generation(DType::bf16, 5 * bf16_bound); }

}  // namespace birdie::testing
