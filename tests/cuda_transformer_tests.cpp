// The Transformer's decoding on the GPU: the one-query attention over a cache and the
// rotary embedding at one position against their CPU references in f64 (random inputs,
// outputs poisoned, odd cache lengths, head widths 16, 64 and 128, f32 and bf16); the
// rotary embedding at a position against the full-row rotary kernel; and the KV-cache
// decoder of a small model on the GPU against the same model on the CPU.
#include <doctest/doctest.h>

#include <vector>

#include "kernels/attention_decode.h"
#include "kernels/rotary.h"
#include "model/transformer/transformer_lm.h"
#include "tests/cuda_generation_parity.h"
#include "tests/cuda_test_support.h"
#include "tests/support/small_model_config.h"

namespace birdie::testing {
namespace {

struct DecodeShape {
  std::int64_t n, heads, head_dim;
};

}  // namespace

TEST_CASE("attention_decode on the GPU matches the CPU reference") {
  for (DType dtype : {DType::f32, DType::bf16})
    for (const DecodeShape& s : {DecodeShape{1, 3, 64}, DecodeShape{77, 2, 16}, DecodeShape{300, 4, 128},
                                 DecodeShape{1025, 5, 64}}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(s.n);
      CAPTURE(s.head_dim);
      RandomGenerator rng(static_cast<std::uint64_t>(s.n * 7 + s.head_dim));
      const Tensor q = random_cpu({s.heads, s.head_dim}, dtype, rng, -2.0, 2.0);
      const Tensor k = random_cpu({s.n, s.heads, s.head_dim}, dtype, rng, -2.0, 2.0);
      const Tensor v = random_cpu({s.n, s.heads, s.head_dim}, dtype, rng);
      Tensor ref = Tensor::empty({s.heads, s.head_dim}, DType::f64);
      kernels::attention_decode(as_f64_cpu(q), as_f64_cpu(k), as_f64_cpu(v), ref);
      Tensor out = poisoned_cuda({s.heads, s.head_dim}, dtype);
      kernels::attention_decode(q.to(Device::cuda), k.to(Device::cuda), v.to(Device::cuda), out);
      check_close(out, ref, tolerance_for(dtype), "attention_decode out");
    }
}

TEST_CASE("rotary_at_position on the GPU matches the CPU reference and the full-row kernel") {
  for (DType dtype : {DType::f32, DType::bf16})
    for (std::int64_t position : {0, 1, 37, 4097}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(position);
      RandomGenerator rng(static_cast<std::uint64_t>(position + 3));
      const std::int64_t H = 3, Dh = 64;
      const Tensor x = random_cpu({H, Dh}, dtype, rng);
      Tensor ref = Tensor::empty({H, Dh}, DType::f64);
      kernels::rotary_at_position(as_f64_cpu(x), position, 10000, ref);
      Tensor y = poisoned_cuda({H, Dh}, dtype);
      kernels::rotary_at_position(x.to(Device::cuda), position, 10000, y);
      check_close(y, ref, tolerance_for(dtype), "rotary_at_position");
      // The same token as the last of a row of position + 1 tokens, through rotary_forward.
      Tensor row = poisoned_cuda({1, position + 1, H, Dh}, dtype);
      row.reshape({position + 1, H, Dh}).slice(position, position + 1).copy_from(x.to(Device::cuda).reshape({1, H, Dh}));
      Tensor reset = Tensor::zeros({1, position + 1}, DType::i32, Device::cuda);
      Tensor rotated = Tensor::empty(row.shape(), dtype, Device::cuda);
      // Only the last token's values matter; rotate the whole row (NaN rows stay NaN).
      kernels::rotary_forward(row, reset, 10000, rotated);
      const Tensor last = rotated.reshape({position + 1, H, Dh}).slice(position, position + 1).reshape({H, Dh});
      CHECK(max_abs_error(y, as_f64_cpu(last)) == 0.0);
    }
}

namespace {
model::ModelConfig small_transformer() {
  // 3 heads of width 16.
  return small_model_config(model::Architecture::transformer, {.vocab = 45, .dim = 48, .heads = 3, .mlp_hidden = 40});
}

void check_generation(DType gpu_dtype, double bound) {
  // 70 steps past a 23-token prompt, so the cache grows past its first 64 rows.
  check_generation_across_devices<model::TransformerLm>(small_transformer(), gpu_dtype, 70, bound);
}
}  // namespace

TEST_CASE("a small Transformer generates the same logits on the GPU (f32) as on the CPU") {
  check_generation(DType::f32, 1e-4);
}

TEST_CASE("the same model with bf16 weights and activations on the GPU stays close") {
  check_generation(DType::bf16, 5 * bf16_bound);
}

}  // namespace birdie::testing
