// The GPU-against-CPU generation check the parity suites run for each architecture
// (tests/cuda_generation_tests.cpp, cuda_hawk_step_tests.cpp, cuda_transformer_tests.cpp):
// the same model on both devices, the logits of its decoder at <sg> after a random prompt
// and after each of a run of continuation tokens, compared on the host.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "model/language_model.h"
#include "tests/cuda_test_support.h"

namespace birdie::testing {

// The logits at <sg> (token 4) after a 23-token prompt, then after each of `steps`
// continuation tokens (all on the host), from the model's decoder; prompt and tokens
// drawn from seed 12, in [5, 45).
inline std::vector<Tensor> generation_logits(const model::LanguageModel& lm, int steps) {
  constexpr std::int32_t sg = 4;
  RandomGenerator rng(12);
  std::vector<std::int32_t> prompt(23);
  for (auto& t : prompt) t = 5 + std::int32_t(rng.uniform_int(40));
  const auto decoder = lm.decoder();
  std::vector<Tensor> logits{decoder->prefill(prompt, sg)};
  for (int i = 0; i < steps; ++i) logits.push_back(decoder->step(5 + std::int32_t(rng.uniform_int(40))));
  return logits;
}

// `gpu` generates `cpu`'s logits, each within `bound` (relative L2), and hands them back
// on the host. The caller gives `cpu` the GPU model's parameter values.
inline void check_generation_matches(const model::LanguageModel& gpu, const model::LanguageModel& cpu, int steps,
                                     double bound) {
  const std::vector<Tensor> got = generation_logits(gpu, steps), want = generation_logits(cpu, steps);
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].is_cpu());
    CHECK(relative_error(got[i], want[i]) < bound);
  }
}

// An `Lm` of `config` made on the GPU in `gpu_dtype` (seed 7) and on the CPU in f32 holding
// the GPU model's parameter values: check_generation_matches over `steps` tokens.
template <class Lm>
void check_generation_across_devices(const model::ModelConfig& config, DType gpu_dtype, int steps, double bound) {
  CAPTURE(dtype_name(gpu_dtype));
  Lm gpu(config, gpu_dtype, Device::cuda, 7);
  Lm cpu(config, DType::f32, Device::cpu, 7);
  cpu.parameters().values().copy_from(as_f64_cpu(gpu.parameters().values()).to(DType::f32));
  check_generation_matches(gpu, cpu, steps, bound);
}

}  // namespace birdie::testing
