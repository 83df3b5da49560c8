#include "model/batch_decoder.h"

#include <string>

#include "kernels/embedding.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"

namespace birdie::model {

Tensor stack_rows(std::span<const Tensor> rows) {
  BIRDIE_CHECK(!rows.empty(), "stack_rows: no rows");
  const Tensor& first = rows.front();
  BIRDIE_CHECK(first.rank() >= 1 && first.dim(0) == 1, "stack_rows: rows must be [1, ...], got ", first.describe());
  Shape shape = first.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor stacked = Tensor::empty(shape, first.dtype(), first.device());
  for (std::size_t b = 0; b < rows.size(); ++b) {
    check_shape(rows[b], first.shape(), "stack_rows row (the first row's shape)");
    stacked.slice(static_cast<std::int64_t>(b), static_cast<std::int64_t>(b) + 1).copy_from(rows[b]);
  }
  return stacked;
}

Tensor norm_statistics(std::int64_t B, DType dtype, Device device) {
  return Tensor::empty({B}, dtype == DType::bf16 ? DType::f32 : dtype, device);
}

void embed_step_tokens(const LanguageModel& lm, const Tensor& tokens, const Tensor& logits, std::int64_t B,
                       const char* name, Tensor& x) {
  BIRDIE_CHECK(tokens.rank() == 1 && tokens.dim(0) == B, name, "::step: tokens must be [", B, "], got ",
               tokens.describe());
  check_shape(logits, {B, lm.config().vocab}, (std::string(name) + "::step logits").c_str());
  kernels::embedding_forward(lm.parameters().compute("embedding.weight"), tokens, x);
}

void step_head(const LanguageModel& lm, const Tensor& x, Tensor& normed, Tensor& inv_rms, Tensor& logits) {
  const ModelConfig& config = lm.config();
  const autograd::ParameterSet& parameters = lm.parameters();
  kernels::rmsnorm_forward(x, parameters.compute("final_norm.weight"), config.norm_eps, normed, inv_rms);
  kernels::matmul(normed, false, parameters.compute(config.tie_embeddings ? "embedding.weight" : "head.weight"), true,
                  logits);
}

}  // namespace birdie::model
