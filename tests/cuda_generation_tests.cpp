// Recurrent generation of a small model on the GPU against the same model on the CPU:
// prefill (both scans over the prompt, the final states, the head on <sg>'s row alone)
// and chained steps, logits compared after every token.
#include <doctest/doctest.h>

#include "model/gated_ssm/gated_ssm_decoder.h"
#include "model/generator.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {
namespace {

constexpr std::int32_t sg = 4;
// Odd state halves (N/2 = 11) and alternate bidirectional / causal blocks.
const model::ModelConfig config{45, 24, 22, 3, model::BidirectionalLayers::alternate};

// The logits at <sg>, then after each continuation token (all on the host).
std::vector<Tensor> generation_logits(const model::GatedSsmLm& lm) {
  RandomGenerator rng(12);
  std::vector<std::int32_t> prompt(23);
  for (auto& t : prompt) t = 5 + std::int32_t(rng.uniform_int(40));
  model::GatedSsmDecoder generator(lm);
  std::vector<Tensor> logits{generator.prefill(prompt, sg)};
  for (int i = 0; i < 6; ++i) logits.push_back(generator.step(5 + std::int32_t(rng.uniform_int(40))));
  return logits;
}

// The CPU model (f32) holds exactly the GPU model's parameter values.
void check_generation(DType gpu_dtype, double bound) {
  CAPTURE(dtype_name(gpu_dtype));
  model::GatedSsmLm gpu(config, gpu_dtype, Device::cuda, 7);
  model::GatedSsmLm cpu(config, DType::f32, Device::cpu, 7);
  cpu.parameters().values().copy_from(as_f64_cpu(gpu.parameters().values()).to(DType::f32));
  const std::vector<Tensor> got = generation_logits(gpu), want = generation_logits(cpu);
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].is_cpu());
    CHECK(relative_error(got[i], want[i]) < bound);
  }
}

}  // namespace

TEST_CASE("a small model generates the same logits on the GPU (f32) as on the CPU") {
  check_generation(DType::f32, 1e-4);
}

// bf16 activations with f32 recurrent states: each op rounds its output to bf16 (2^-9
// relative) and the rounding compounds through three blocks and the head, so 5e-2 as in
// the bf16 model step of cuda_autograd_tests; a wrong state dtype or kernel is off by O(1).
TEST_CASE("the same model with bf16 weights and activations on the GPU stays close") {
  check_generation(DType::bf16, 5 * bf16_bound);
}

}  // namespace birdie::testing
