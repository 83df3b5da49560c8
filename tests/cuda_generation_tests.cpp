// Recurrent generation of a small model on the GPU against the same model on the CPU:
// prefill (both scans over the prompt, the final states, the head on <sg>'s row alone)
// and chained steps, logits compared after every token. Then decoding on the device
// (kernels/sampling.h, model/batch_generator.h): the sampling kernel picks the CPU
// reference's tokens, the batched decoding attention matches its CPU form, and for each
// architecture the graph-captured step gives the plain launches' tokens and the CPU's.
#include <doctest/doctest.h>

#include "kernels/attention_decode.h"
#include "kernels/sampling.h"
#include "model/batch_generator.h"
#include "model/gated_ssm/gated_ssm_lm.h"
#include "model/generator.h"
#include "tests/cuda_generation_parity.h"
#include "tests/cuda_test_support.h"
#include "tests/support/small_model_config.h"

namespace birdie::testing {
namespace {

constexpr std::int32_t sg = 4;
// Odd state halves (N/2 = 11) and alternate bidirectional / causal blocks.
const model::ModelConfig config{45, 24, 22, 3, model::BidirectionalLayers::alternate};

// The CPU model (f32) holds exactly the GPU model's parameter values.
void check_generation(DType gpu_dtype, double bound) {
  check_generation_across_devices<model::GatedSsmLm>(config, gpu_dtype, 6, bound);
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

namespace {

model::ModelConfig decoding_config(model::Architecture architecture) {
  return small_model_config(architecture,
                            {.vocab = 45, .dim = 32, .ssm_state = 22, .hawk_state = 24, .heads = 2, .mlp_hidden = 48});
}

std::vector<model::GenerationRequest> decoding_requests() {
  RandomGenerator rng(31);
  std::vector<model::GenerationRequest> requests;
  for (std::size_t length : {0, 5, 17, 2, 9, 30}) {
    model::GenerationRequest r;
    for (std::size_t t = 0; t < length; ++t) r.prompt.push_back(5 + std::int32_t(rng.uniform_int(40)));
    if (length % 2 == 1) r.answer_start = {6, 7};
    r.seed = 500 + requests.size();
    requests.push_back(r);
  }
  return requests;
}

}  // namespace

TEST_CASE("the sampling kernel picks the CPU reference's tokens and advances the counters alike") {
  RandomGenerator rng(4);
  const std::int64_t B = 5, V = 4099;
  for (DType dtype : {DType::f32, DType::bf16}) {
    // Logits on a coarse grid: many ties, which the keys must break by index.
    Tensor logits = random_cpu({B, V}, DType::f32, rng, -6, 6);
    float* v = logits.data<float>();
    for (std::int64_t i = 0; i < B * V; ++i) v[i] = std::round(v[i] * 4) / 4;
    const Tensor cpu_logits = logits.to(dtype);
    std::vector<std::int32_t> words;
    for (std::int64_t b = 0; b < B; ++b) words.push_back(std::int32_t(rng.next_u32())), words.push_back(std::int32_t(b));
    const Tensor seeds = Tensor::from_values<std::int32_t>(words, {B, 2});
    for (kernels::SamplingRule rule : {kernels::SamplingRule{}, kernels::SamplingRule{1.0, 0, 1.0},
                                       kernels::SamplingRule{0.7, 50, 1.0}, kernels::SamplingRule{1.2, 0, 0.9},
                                       kernels::SamplingRule{1.0, 200, 0.5}, kernels::SamplingRule{2.0, 1, 1.0}}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(rule.temperature);
      CAPTURE(rule.top_k);
      CAPTURE(rule.top_p);
      Tensor cpu_counters = Tensor::from_values<std::int32_t>({0, 1, 2, 30, 400}, {B});
      Tensor gpu_counters = cpu_counters.to(Device::cuda);
      Tensor cpu_tokens = Tensor::zeros({B}, DType::i32), gpu_tokens = poisoned_cuda({B}, DType::i32);
      for (int draw = 0; draw < 20; ++draw) {
        kernels::sample_tokens(cpu_logits, rule, seeds, cpu_counters, cpu_tokens);
        kernels::sample_tokens(cpu_logits.to(Device::cuda), rule, seeds.to(Device::cuda), gpu_counters, gpu_tokens);
        CHECK(gpu_tokens.to_vector<std::int32_t>() == cpu_tokens.to_vector<std::int32_t>());
      }
      CHECK(gpu_counters.to_vector<std::int32_t>() == cpu_counters.to_vector<std::int32_t>());
    }
  }
}

TEST_CASE("record_tokens on the GPU keeps the CPU's books") {
  const std::int64_t B = 4, M = 3;
  Tensor out[2] = {Tensor::full({B, M}, -9, DType::i32), Tensor::full({B, M}, -9, DType::i32, Device::cuda)};
  Tensor counts[2] = {Tensor::zeros({B}, DType::i32), Tensor::zeros({B}, DType::i32, Device::cuda)};
  Tensor done[2] = {Tensor::zeros({B}, DType::i32), Tensor::zeros({B}, DType::i32, Device::cuda)};
  for (const std::vector<std::int32_t>& step : {std::vector<std::int32_t>{5, 3, 8, 5}, {3, 5, 5, 5}, {5, 5, 5, 9}, {1, 1, 1, 1}})
    for (int d = 0; d < 2; ++d) {
      const Tensor tokens = Tensor::from_values<std::int32_t>(step, {B}).to(d == 0 ? Device::cpu : Device::cuda);
      kernels::record_tokens(tokens, 3, 8, out[d], counts[d], done[d]);
    }
  CHECK(out[1].to_vector<std::int32_t>() == out[0].to_vector<std::int32_t>());
  CHECK(counts[1].to_vector<std::int32_t>() == counts[0].to_vector<std::int32_t>());
  CHECK(done[1].to_vector<std::int32_t>() == done[0].to_vector<std::int32_t>());
}

TEST_CASE("the batched decoding attention on the GPU matches its CPU form") {
  RandomGenerator rng(6);
  const std::int64_t B = 3, H = 4, Dh = 64, capacity = 300;
  for (DType dtype : {DType::f32, DType::bf16}) {
    CAPTURE(dtype_name(dtype));
    const Tensor q = random_cpu({B, H, Dh}, dtype, rng), k = random_cpu({B, H, Dh}, dtype, rng),
                 v = random_cpu({B, H, Dh}, dtype, rng);
    const Tensor keys = random_cpu({B, capacity, H, Dh}, dtype, rng), values = random_cpu({B, capacity, H, Dh}, dtype, rng);
    const Tensor positions = Tensor::from_values<std::int32_t>({0, 157, 299}, {B});
    Tensor cpu[5] = {q.clone(), keys.clone(), values.clone(), positions.clone(), Tensor::zeros({B, H, Dh}, dtype)};
    Tensor gpu[5] = {q.to(Device::cuda), keys.to(Device::cuda), values.to(Device::cuda), positions.to(Device::cuda),
                     poisoned_cuda({B, H, Dh}, dtype)};
    for (Tensor* t : {cpu, gpu}) {
      const Device device = t[0].device();
      kernels::append_to_cache(t[0], k.to(device), v.to(device), t[3], 10000.0, t[1], t[2]);
      kernels::attention_decode_cached(t[0], t[1], t[2], t[3], t[4]);
      kernels::advance_positions(t[3]);
    }
    for (int i : {0, 1, 2, 4}) CHECK(relative_error(gpu[i], as_f64_cpu(cpu[i])) < bound_for(dtype));
    CHECK(gpu[3].to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 158, 300});
  }
}

// The graph path and the plain launches run the same kernels on the same buffers: the
// same tokens, bit for bit. The f32 model's tokens are the CPU's (logits within 1e-5).
TEST_CASE("batched generation on the GPU: the graph gives the plain launches' tokens, and the CPU's") {
  for (auto architecture : {model::Architecture::gated_ssm, model::Architecture::hawk, model::Architecture::transformer}) {
    for (DType dtype : {DType::f32, DType::bf16}) {
      CAPTURE(model::architecture_name(architecture));
      CAPTURE(dtype_name(dtype));
      const model::ModelConfig config = decoding_config(architecture);
      const auto gpu = model::make_language_model(config, DType::f32, Device::cuda, 7, dtype);
      const auto cpu = model::make_language_model(config, DType::f32, Device::cpu, 7);
      cpu->parameters().values().copy_from(gpu->parameters().values().to(Device::cpu));
      const std::vector<model::GenerationRequest> requests = decoding_requests();
      model::SamplingOptions greedy;
      greedy.max_new_tokens = 24;
      greedy.eos = -1;  // every row decodes all its tokens: the graph is surely captured
      model::SamplingOptions sampled = greedy;
      sampled.temperature = 1.0;
      sampled.top_k = 20;
      sampled.top_p = 0.9;
      for (const model::SamplingOptions& options : {greedy, sampled}) {
        CAPTURE(options.temperature);
        const auto graph = model::generate_batch(*gpu, requests, sg, options, {true, 5});
        const auto plain = model::generate_batch(*gpu, requests, sg, options, {false, 5});
        CHECK(graph.graph);
        CHECK_FALSE(plain.graph);
        CHECK(graph.tokens == plain.tokens);
        CHECK(graph.steps == plain.steps);
        if (dtype == DType::f32) CHECK(graph.tokens == model::generate_batch(*cpu, requests, sg, options).tokens);
      }
    }
  }
}

}  // namespace birdie::testing
